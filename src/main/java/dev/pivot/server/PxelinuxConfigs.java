package dev.pivot.server;

import dev.pivot.boot.BootCatalog;
import dev.pivot.loaders.PxelinuxConfig;
import dev.pivot.loaders.Routes;
import dev.pivot.tftp.TftpFiles;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Serves {@link PxelinuxConfig}s over TFTP: the adapter between the TFTP server's generated files and the pure
 * renderer, with the catalog deciding what each machine boots.
 */
final class PxelinuxConfigs implements TftpFiles.Generator {

    private final BootCatalog catalog;
    private final String baseUrl;
    private final Supplier<List<String>> peers;

    /**
     * @param baseUrl the HTTP server as machines reach it, e.g. "http://10.0.0.1:8080"
     * @param peers   the other live servers' base URLs (docs/ha.md), named to stage 1 as its fallbacks
     */
    PxelinuxConfigs(BootCatalog catalog, String baseUrl, Supplier<List<String>> peers) {
        this.catalog = catalog;
        this.baseUrl = baseUrl;
        this.peers = peers;
    }

    @Override
    public Optional<byte[]> generate(String name, InetAddress client) {
        return PxelinuxConfig.machine(name).flatMap(mac -> catalog.specFor(mac)
                .map(spec -> PxelinuxConfig.render(spec, Routes.thisServerFirst(baseUrl, peers.get()), mac)
                        .getBytes(StandardCharsets.UTF_8)));
    }
}
