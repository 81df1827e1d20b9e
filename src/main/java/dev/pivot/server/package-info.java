/**
 * The composition root: {@link dev.pivot.server.ServerConfig} in, running services out (image preparation, store,
 * event pipeline, HTTP, TFTP, DHCP), used by the CLI, the demo, the tests and the benchmarks. The one package that
 * may import every other one; nothing but {@code cli} (and tests) imports it.
 */
package dev.pivot.server;
