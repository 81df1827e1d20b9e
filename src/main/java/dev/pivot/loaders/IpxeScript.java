package dev.pivot.loaders;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootPlan;
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
        return forMachine(spec, baseUrl, mac, java.util.Optional.empty());
    }

    /** @param token this boot's secret: on every artifact URL and the kernel command line (pivot.token=) */
    public static String forMachine(BootSpec spec, String baseUrl, MacAddress mac, java.util.Optional<String> token) {
        return forMachine(spec, List.of(baseUrl), mac, token);
    }

    /**
     * @param baseUrls the servers that can serve this boot, the one writing the script first: each artifact is
     *                 fetched from the first that answers ({@code kernel URL1 || kernel URL2 || …}), and stage 1 is
     *                 told the others ({@link Stage1Contract#FALLBACK}), so a boot survives the loss of a server
     */
    public static String forMachine(BootSpec spec, List<String> baseUrls, MacAddress mac,
                                    java.util.Optional<String> token) {
        if (baseUrls.isEmpty()) {
            throw new IllegalArgumentException("a boot script needs at least one server URL");
        }
        String baseUrl = baseUrls.getFirst();
        String cmdline = String.join(" ", kernelCommandLine(spec, baseUrls, mac, token));
        StringBuilder s = new StringBuilder();
        s.append("#!ipxe\n");
        s.append("# Pivot boot script for ").append(mac).append('\n');
        s.append(":start\n");
        s.append("echo Pivot: loading kernel ").append(spec.kernel().name()).append('\n');
        for (String base : baseUrls) {
            s.append("kernel ").append(Routes.artifact(base, spec.kernel(), mac, token)).append(' ').append(cmdline)
                    .append(" || ");
        }
        s.append("goto failed_kernel\n");
        for (int i = 0; i < spec.initrds().size(); i++) {
            Artifact initrd = spec.initrds().get(i);
            s.append("echo Pivot: loading initrd ").append(initrd.name()).append('\n');
            // --name makes the image name equal the initrd= argument, which is how the EFI stub finds it.
            for (String base : baseUrls) {
                s.append("initrd --name ").append(initrd.name()).append(' ')
                        .append(Routes.artifact(base, initrd, mac, token)).append(" || ");
            }
            s.append("goto failed_initrd_").append(i).append('\n');
        }
        s.append("echo Pivot: booting\n");
        s.append("boot || goto failed_boot\n");
        failure(s, "failed_kernel", "FAILED to load kernel " + spec.kernel().name() + " from "
                + Routes.artifact(baseUrl, spec.kernel(), mac) + alsoTried(baseUrls));
        for (int i = 0; i < spec.initrds().size(); i++) {
            Artifact initrd = spec.initrds().get(i);
            failure(s, "failed_initrd_" + i, "FAILED to load initrd " + initrd.name() + " from "
                    + Routes.artifact(baseUrl, initrd, mac) + alsoTried(baseUrls));
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

    private static String alsoTried(List<String> baseUrls) {
        return baseUrls.size() == 1 ? "" : " and " + (baseUrls.size() - 1) + " other server"
                + (baseUrls.size() == 2 ? "" : "s");
    }

    private static void failure(StringBuilder s, String label, String message) {
        s.append(':').append(label).append('\n');
        s.append("echo Pivot: ").append(message).append('\n');
        s.append("goto failed\n");
    }

    /**
     * initrd= per initrd (how the EFI stub finds them by name), then the contract's {@link KernelCommandLine}, then,
     * for Pivot's prelude, iPXE's own lease ({@link Stage1Contract#IPXE_LEASE}) so stage 1 skips a second DHCP.
     */
    public static List<String> kernelCommandLine(BootSpec spec, String baseUrl, MacAddress mac) {
        return kernelCommandLine(spec, baseUrl, mac, java.util.Optional.empty());
    }

    public static List<String> kernelCommandLine(BootSpec spec, String baseUrl, MacAddress mac,
                                                 java.util.Optional<String> token) {
        return kernelCommandLine(spec, List.of(baseUrl), mac, token);
    }

    public static List<String> kernelCommandLine(BootSpec spec, List<String> baseUrls, MacAddress mac,
                                                 java.util.Optional<String> token) {
        List<String> args = new ArrayList<>();
        for (Artifact initrd : spec.initrds()) {
            args.add("initrd=" + initrd.name());
        }
        args.addAll(KernelCommandLine.of(spec, baseUrls, mac, token));
        if (spec.rootBoot().filter(r -> r.stage1Init().equals(Stage1Contract.RDINIT)).isPresent()) {
            args.addAll(Stage1Contract.IPXE_LEASE);
        }
        return args;
    }

    /**
     * A boot menu like systemd-boot's on NixOS: the profile's generations, newest first, each with its NixOS
     * version, build date and number; the machine's default preselected and booted when {@code timeout} passes
     * without a key. Digits 1-9 pick generations 1-9 directly; a choice chains to that generation's script, so the
     * server knows which one the machine boots. iPXE draws it on every console it has, the serial one included.
     */
    public static String menu(BootPlan plan, String baseUrl, MacAddress mac) {
        return menu(plan, List.of(baseUrl), mac);
    }

    /**
     * @param baseUrls the servers that can serve this boot, the one drawing the menu first: a choice chains to its
     *                 script from the first that answers, as {@link #forMachine} fetches each artifact
     */
    public static String menu(BootPlan plan, List<String> baseUrls, MacAddress mac) {
        if (baseUrls.isEmpty()) {
            throw new IllegalArgumentException("a boot menu needs at least one server URL");
        }
        StringBuilder s = new StringBuilder();
        s.append("#!ipxe\n");
        s.append("# Pivot boot menu for ").append(mac).append(", profile ").append(plan.profile()).append('\n');
        s.append("menu Pivot: ").append(menuText(plan.profile())).append(" - choose a generation\n");
        int dflt = plan.generation();
        for (BootPlan.MenuEntry e : plan.menu()) {
            s.append("item");
            if (e.generation() >= 1 && e.generation() <= 9) {
                s.append(" --key ").append(e.generation());
            }
            s.append(" gen_").append(e.generation()).append(' ').append(entryText(e)).append('\n');
            if (e.isDefault()) {
                dflt = e.generation();
            }
        }
        s.append("choose --timeout ").append(plan.menuTimeoutSeconds() * 1000L).append(" --default gen_").append(dflt)
                .append(" selected || set selected gen_").append(dflt).append('\n');
        s.append("goto ${selected}\n");
        for (BootPlan.MenuEntry e : plan.menu()) {
            s.append(":gen_").append(e.generation()).append('\n');
            s.append("echo Pivot: booting generation ").append(e.generation()).append('\n');
            chainToFirstThatAnswers(s, baseUrls, Routes.scriptPath(mac, e.generation()));
            s.append(" || goto failed\n");
        }
        s.append(":failed\n");
        s.append("echo Pivot: the boot script of the chosen generation did not load; retrying in ")
                .append(RETRY_PAUSE_SECONDS).append(" seconds (Ctrl-C for the iPXE shell)\n");
        s.append("sleep ").append(RETRY_PAUSE_SECONDS).append(" || shell\n");
        chainToFirstThatAnswers(s, baseUrls, Routes.scriptPath(mac));
        s.append('\n');
        return s.toString();
    }

    /** {@code chain … URL1/PATH || chain … URL2/PATH || …}, without a line end. */
    private static void chainToFirstThatAnswers(StringBuilder s, List<String> baseUrls, String path) {
        for (int i = 0; i < baseUrls.size(); i++) {
            s.append(i == 0 ? "" : " || ").append("chain --replace --autofree ").append(baseUrls.get(i)).append(path);
        }
    }

    private static final java.time.format.DateTimeFormatter BUILT =
            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(java.time.ZoneOffset.UTC);

    /** "NixOS 24.11.20241201.abcdef (Generation 3, built 2024-12-01 10:42)", "(default)" after the default. */
    static String entryText(BootPlan.MenuEntry e) {
        String version = menuText(e.version());
        return "NixOS" + (version.isEmpty() ? "" : " " + version) + " (Generation " + e.generation() + ", built "
                + BUILT.format(e.built()) + ")" + (e.isDefault() ? " (default)" : "");
    }

    /** Text safe on an iPXE command line: no variable expansion, no line breaks, no command separators. */
    private static String menuText(String text) {
        return text.replaceAll("[^A-Za-z0-9 ._+:/@()-]", "_");
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
