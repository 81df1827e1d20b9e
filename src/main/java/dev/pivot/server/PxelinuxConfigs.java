package dev.pivot.server;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;
import dev.pivot.http.IpxeScript;
import dev.pivot.tftp.TftpFiles;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Per-machine PXELINUX configs over TFTP ("pxelinux.cfg/01-52-54-00-12-34-56", ARP type 1 then the MAC), for
 * boot loaders that read them instead of an iPXE script, such as u-root's pxeboot (which fetches http:// paths
 * and joins comma-separated initrds). Same kernel, initrds and command line as the iPXE script, by URL.
 */
final class PxelinuxConfigs implements TftpFiles.Generator {

    private static final Pattern NAME = Pattern.compile("pxelinux\\.cfg/01-((?:[0-9a-fA-F]{2}-){5}[0-9a-fA-F]{2})");

    private final BootCatalog catalog;
    private final String baseUrl;

    /** @param baseUrl the HTTP server as machines reach it, e.g. "http://10.0.0.1:80" */
    PxelinuxConfigs(BootCatalog catalog, String baseUrl) {
        this.catalog = catalog;
        this.baseUrl = baseUrl;
    }

    @Override
    public Optional<byte[]> generate(String name, InetAddress client) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            return Optional.empty();
        }
        MacAddress mac = MacAddress.parse(m.group(1));
        return catalog.specFor(mac).map(spec -> config(spec, baseUrl, mac).getBytes(StandardCharsets.UTF_8));
    }

    static String config(BootSpec spec, String baseUrl, MacAddress mac) {
        // initrd=NAME words are for the EFI stub under iPXE; here the loader hands the initrds over itself.
        String append = IpxeScript.kernelCommandLine(spec, baseUrl, mac).stream()
                .filter(a -> !a.startsWith("initrd=")).collect(Collectors.joining(" "));
        List<Artifact> initrds = spec.initrds();
        return "# Pivot: " + mac + "\n"
                + "DEFAULT pivot\n"
                + "LABEL pivot\n"
                + "  KERNEL " + IpxeScript.artifactUrl(baseUrl, spec.kernel(), mac) + "\n"
                + "  INITRD " + initrds.stream().map(a -> IpxeScript.artifactUrl(baseUrl, a, mac))
                .collect(Collectors.joining(",")) + "\n"
                + "  APPEND " + append + "\n";
    }
}
