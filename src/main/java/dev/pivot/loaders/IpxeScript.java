package dev.pivot.loaders;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;

import java.util.ArrayList;
import java.util.List;

/**
 * Renders the iPXE scripts Pivot serves. Pure functions of the spec, the base URL and the MAC, so what a machine
 * is told to boot can be checked without a server.
 */
public final class IpxeScript {

    /** Seconds a failed boot waits before trying again (Ctrl-C during the wait opens the iPXE shell). */
    static final int RETRY_PAUSE_SECONDS = 10;

    private IpxeScript() {
    }

    /**
     * The per-machine script: kernel and initrds by content-addressed URL, the kernel command line of the
     * contract, and a visible failure path naming the file that could not be loaded.
     */
    public static String forMachine(BootSpec spec, String baseUrl, MacAddress mac) {
        return forMachine(spec, baseUrl, mac, java.util.Optional.empty());
    }

    /** @param token this boot's secret: on every artifact URL and the kernel command line (pivot.token=) */
    public static String forMachine(BootSpec spec, String baseUrl, MacAddress mac, java.util.Optional<String> token) {
        StringBuilder s = new StringBuilder();
        s.append("#!ipxe\n");
        s.append("# Pivot boot script for ").append(mac).append('\n');
        s.append(":start\n");
        s.append("echo Pivot: loading kernel ").append(spec.kernel().name()).append('\n');
        s.append("kernel ").append(Routes.artifact(baseUrl, spec.kernel(), mac, token)).append(' ')
                .append(String.join(" ", kernelCommandLine(spec, baseUrl, mac, token)))
                .append(" || goto failed_kernel\n");
        for (int i = 0; i < spec.initrds().size(); i++) {
            Artifact initrd = spec.initrds().get(i);
            s.append("echo Pivot: loading initrd ").append(initrd.name()).append('\n');
            // --name makes the image name equal the initrd= argument, which is how the EFI stub finds it.
            s.append("initrd --name ").append(initrd.name()).append(' ').append(Routes.artifact(baseUrl, initrd, mac, token))
                    .append(" || goto failed_initrd_").append(i).append('\n');
        }
        s.append("echo Pivot: booting\n");
        s.append("boot || goto failed_boot\n");
        failure(s, "failed_kernel", "FAILED to load kernel " + spec.kernel().name() + " from "
                + Routes.artifact(baseUrl, spec.kernel(), mac));
        for (int i = 0; i < spec.initrds().size(); i++) {
            Artifact initrd = spec.initrds().get(i);
            failure(s, "failed_initrd_" + i, "FAILED to load initrd " + initrd.name() + " from "
                    + Routes.artifact(baseUrl, initrd, mac));
        }
        failure(s, "failed_boot", "FAILED to boot kernel " + spec.kernel().name());
        s.append(":failed\n");
        s.append("echo Pivot: boot of ").append(mac).append(" failed; retrying in ").append(RETRY_PAUSE_SECONDS)
                .append(" seconds (Ctrl-C for the iPXE shell)\n");
        s.append("sleep ").append(RETRY_PAUSE_SECONDS).append(" || shell\n");
        s.append("imgfree\n");
        s.append("goto start\n");
        return s.toString();
    }

    private static void failure(StringBuilder s, String label, String message) {
        s.append(':').append(label).append('\n');
        s.append("echo Pivot: ").append(message).append('\n');
        s.append("goto failed\n");
    }

    /** initrd= per initrd (how the EFI stub finds them by name), then the contract's {@link KernelCommandLine}. */
    public static List<String> kernelCommandLine(BootSpec spec, String baseUrl, MacAddress mac) {
        return kernelCommandLine(spec, baseUrl, mac, java.util.Optional.empty());
    }

    public static List<String> kernelCommandLine(BootSpec spec, String baseUrl, MacAddress mac,
                                                 java.util.Optional<String> token) {
        List<String> args = new ArrayList<>();
        for (Artifact initrd : spec.initrds()) {
            args.add("initrd=" + initrd.name());
        }
        args.addAll(KernelCommandLine.of(spec, baseUrl, mac, token));
        return args;
    }

    /** For a request without ?mac=: iPXE asks again, naming its NIC ($net0/mac, else the booting NIC's $mac). */
    public static String chainWithMac(String baseUrl) {
        return "#!ipxe\n"
                + "# Pivot: ask again with this machine's MAC address\n"
                + "chain " + baseUrl + Routes.scriptPath("${net0/mac}") + " || chain " + baseUrl
                + Routes.scriptPath("${mac}") + "\n";
    }

    /** For a machine the catalog does not boot: say so on its console and give the firmware back control. */
    public static String noImage(MacAddress mac) {
        return "#!ipxe\n"
                + "echo Pivot: no image assigned to MAC " + mac + "\n"
                + "exit 1\n";
    }
}
