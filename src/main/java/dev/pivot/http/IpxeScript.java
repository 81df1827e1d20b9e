package dev.pivot.http;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;
import dev.pivot.stage1.Stage1Contract;

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
        StringBuilder s = new StringBuilder();
        s.append("#!ipxe\n");
        s.append("# Pivot boot script for ").append(mac).append('\n');
        s.append(":start\n");
        s.append("echo Pivot: loading kernel ").append(spec.kernel().name()).append('\n');
        s.append("kernel ").append(artifactUrl(baseUrl, spec.kernel(), mac)).append(' ')
                .append(String.join(" ", kernelCommandLine(spec, baseUrl, mac)))
                .append(" || goto failed_kernel\n");
        for (int i = 0; i < spec.initrds().size(); i++) {
            Artifact initrd = spec.initrds().get(i);
            s.append("echo Pivot: loading initrd ").append(initrd.name()).append('\n');
            // --name makes the image name equal the initrd= argument, which is how the EFI stub finds it.
            s.append("initrd --name ").append(initrd.name()).append(' ').append(artifactUrl(baseUrl, initrd, mac))
                    .append(" || goto failed_initrd_").append(i).append('\n');
        }
        s.append("echo Pivot: booting\n");
        s.append("boot || goto failed_boot\n");
        failure(s, "failed_kernel", "FAILED to load kernel " + spec.kernel().name() + " from "
                + artifactUrl(baseUrl, spec.kernel(), mac));
        for (int i = 0; i < spec.initrds().size(); i++) {
            Artifact initrd = spec.initrds().get(i);
            failure(s, "failed_initrd_" + i, "FAILED to load initrd " + initrd.name() + " from "
                    + artifactUrl(baseUrl, initrd, mac));
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

    /**
     * The kernel command line, in the contract's order: initrd= per initrd, rdinit=, pivot.url=, pivot.mac=,
     * pivot.root=, pivot.sha256=, pivot.size=, init=, then the image's own parameters.
     */
    public static List<String> kernelCommandLine(BootSpec spec, String baseUrl, MacAddress mac) {
        List<String> args = new ArrayList<>();
        for (Artifact initrd : spec.initrds()) {
            args.add("initrd=" + initrd.name());
        }
        args.add(Stage1Contract.rdinit(spec.stage1Init()));
        args.add(Stage1Contract.URL.is(baseUrl));
        args.add(Stage1Contract.MAC.is(mac));
        args.add(Stage1Contract.ROOT.is(artifactPath(baseUrl, spec.rootImage())));
        args.add(Stage1Contract.SHA256.is(spec.rootImage().sha256()));
        // The size lets stage 1 check free RAM before fetching (the image lands in a tmpfs).
        args.add(Stage1Contract.SIZE.is(spec.rootImage().size()));
        args.add(Stage1Contract.INIT + "=" + spec.init());
        args.addAll(spec.kernelArgs());
        for (String arg : args) {
            // One word each: a space would split it, "${" would be expanded by iPXE, "||" would end the command.
            if (arg.isEmpty() || arg.chars().anyMatch(c -> c <= ' ' || c == 127) || arg.contains("${")
                    || arg.equals("||") || arg.equals("&&")) {
                throw new IllegalArgumentException("kernel parameter cannot go into an iPXE script: '" + arg + "'");
            }
        }
        return args;
    }

    /** URL of an artifact, tagged with the machine so the server can name it in its events. */
    public static String artifactUrl(String baseUrl, Artifact artifact, MacAddress mac) {
        return artifactPath(baseUrl, artifact) + "?mac=" + mac;
    }

    private static String artifactPath(String baseUrl, Artifact artifact) {
        return baseUrl + "/artifacts/" + artifact.sha256() + "/" + artifact.name();
    }

    /** For a request without ?mac=: iPXE asks again, naming its NIC ($net0/mac, else the booting NIC's $mac). */
    public static String chainWithMac(String baseUrl) {
        return "#!ipxe\n"
                + "# Pivot: ask again with this machine's MAC address\n"
                + "chain " + baseUrl + "/boot.ipxe?mac=${net0/mac} || chain " + baseUrl + "/boot.ipxe?mac=${mac}\n";
    }

    /** For a machine the catalog does not boot: say so on its console and give the firmware back control. */
    public static String noImage(MacAddress mac) {
        return "#!ipxe\n"
                + "echo Pivot: no image assigned to MAC " + mac + "\n"
                + "exit 1\n";
    }
}
