/**
 * The {@code pivot} command line (picocli): flags and config files become a {@link dev.pivot.server.ServerConfig},
 * and the operator commands call the API. Imports {@link dev.pivot.server} and what its commands render or
 * inspect (image, loaders, stage1, boot, artifacts, lab for the demo); nothing imports it.
 */
package dev.pivot.cli;
