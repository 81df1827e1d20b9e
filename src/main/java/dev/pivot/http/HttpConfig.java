package dev.pivot.http;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where Pivot's HTTP server listens and how it names itself.
 *
 * @param bind            the local address to listen on (0.0.0.0 for all)
 * @param port            the TCP port; 0 picks a free one (tests)
 * @param baseUrlOverride "http://host:port" to put in scripts instead of the address each client used
 * @param ipxeDir         the distro's iPXE binaries, served under /ipxe/ for UEFI HTTP Boot
 * @param loaderDirs      first loaders Pivot builds or links (GRUB for arm64; shim and the signed GRUB for UEFI HTTP
 *                        Boot), served under /ipxe/ too when iPXE has no file of that name; the first that has it
 */
public record HttpConfig(InetAddress bind, int port, Optional<String> baseUrlOverride, Path ipxeDir,
                         List<Path> loaderDirs) {

    public static final Path DEBIAN_IPXE_DIR = Path.of("/usr/lib/ipxe");

    public HttpConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("HTTP port out of range 0-65535: " + port);
        }
        baseUrlOverride = baseUrlOverride.map(HttpConfig::checkedBaseUrl);
        loaderDirs = List.copyOf(loaderDirs);
    }

    public HttpConfig(InetAddress bind, int port, Optional<String> baseUrlOverride, Path ipxeDir) {
        this(bind, port, baseUrlOverride, ipxeDir, List.of());
    }

    public HttpConfig(InetAddress bind, int port) {
        this(bind, port, Optional.empty(), DEBIAN_IPXE_DIR);
    }

    private static String checkedBaseUrl(String url) {
        String trimmed = url.strip();
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        // The base URL ends up in iPXE commands and the kernel command line: no spaces, no iPXE ${} expansion.
        if (!trimmed.matches("https?://[A-Za-z0-9.\\-\\[\\]:]+(/[A-Za-z0-9._~/\\-]*)?")) {
            throw new IllegalArgumentException("HTTP base URL must look like http://host:port, got '" + url + "'");
        }
        return trimmed;
    }
}
