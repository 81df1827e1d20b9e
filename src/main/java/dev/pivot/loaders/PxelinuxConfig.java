package dev.pivot.loaders;

import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Per-machine PXELINUX configs ("pxelinux.cfg/01-52-54-00-12-34-56", ARP type 1 then the MAC), for boot loaders
 * that read them instead of an iPXE script, such as u-root's pxeboot (which fetches http:// paths and joins
 * comma-separated initrds). Same kernel, initrds and command line as the iPXE script, by URL.
 */
public final class PxelinuxConfig {

    private static final Pattern NAME = Pattern.compile("pxelinux\\.cfg/01-((?:[0-9a-fA-F]{2}-){5}[0-9a-fA-F]{2})");

    private PxelinuxConfig() {
    }

    /** The machine a config file name asks for; empty for any other name (default, by IP address, ...). */
    public static Optional<MacAddress> machine(String fileName) {
        Matcher m = NAME.matcher(fileName);
        return m.matches() ? Optional.of(MacAddress.parse(m.group(1))) : Optional.empty();
    }

    /** The config for one machine. */
    public static String render(BootSpec spec, String baseUrl, MacAddress mac) {
        return render(spec, List.of(baseUrl), mac);
    }

    /**
     * @param baseUrls the servers that can serve this boot, the one writing the config first: kernel and initrds
     *                 come from it (a PXELINUX config has no way to try another), and stage 1 is told the others
     *                 ({@code pivot.fallback}) for its reports and the root image
     */
    public static String render(BootSpec spec, List<String> baseUrls, MacAddress mac) {
        if (baseUrls.isEmpty()) {
            throw new IllegalArgumentException("a PXELINUX config needs at least one server URL");
        }
        String baseUrl = baseUrls.getFirst();
        // No initrd= words (they are for the EFI stub under iPXE): here the loader hands the initrds over itself.
        return "# Pivot: " + mac + "\n"
                + "DEFAULT pivot\n"
                + "LABEL pivot\n"
                + "  KERNEL " + Routes.artifact(baseUrl, spec.kernel(), mac) + "\n"
                + "  INITRD " + spec.initrds().stream().map(a -> Routes.artifact(baseUrl, a, mac))
                .collect(Collectors.joining(",")) + "\n"
                + "  APPEND " + String.join(" ", KernelCommandLine.of(spec, baseUrls, mac, Optional.empty())) + "\n";
    }
}
