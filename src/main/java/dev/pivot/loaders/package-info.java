/**
 * What a machine's boot loader is told, as pure renderers: the iPXE scripts, PXELINUX configs and kexec lines, the
 * contract's kernel command line they share, and {@link dev.pivot.loaders.Routes}, the one place HTTP paths and base
 * URLs are built. Imports {@link dev.pivot.boot} and {@link dev.pivot.stage1} only; no I/O.
 */
package dev.pivot.loaders;
