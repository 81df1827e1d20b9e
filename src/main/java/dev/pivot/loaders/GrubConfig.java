package dev.pivot.loaders;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;

import java.net.URI;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renders the grub.cfg files Pivot serves to GRUB (Debian's network GRUB, started by shim under Secure Boot). Pure
 * functions of the spec, the base URL and the MAC, like {@link IpxeScript}: both loaders boot the same kernel,
 * initrds and command line, and fetch them by the same artifact URLs, so the server sees the same steps.
 *
 * <p>Two files: GRUB's network image reads {@code $prefix/grub.cfg} (prefix "/grub" on the server it came from,
 * TFTP or HTTP) without saying which machine it is, so that file is the same for all and only hands over to this
 * machine's config beside it, naming the MAC GRUB booted from ({@code $net_default_mac}). Kernel and initrds come
 * over HTTP wherever GRUB has its http module ({@link #overHttp}: Pivot's arm64 GRUB, Debian 13's signed x86 one);
 * Debian 12's signed network GRUB has none, so for it they come by TFTP ({@link #overTftp}).
 */
public final class GrubConfig {

    /** The per-machine config: {@code /grub/machine/<mac>.cfg}. */
    private static final Pattern MACHINE = Pattern.compile(Pattern.quote(Routes.GRUB_MACHINE)
            + "((?:[0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2})\\.cfg");
    /** Seconds a failed boot waits before trying again (Esc during the wait gives GRUB's prompt). */
    static final int RETRY_PAUSE_SECONDS = 10;

    private GrubConfig() {
    }

    /**
     * The file GRUB's network image reads first: hand over to this machine's config, by the protocol and from the
     * server GRUB itself came from ({@code $prefix}, e.g. "(tftp,10.0.0.1)/grub").
     */
    public static String bootstrap() {
        return "# Pivot: the same for every machine; hands over to this machine's own config\n"
                + "set timeout=0\n"
                + "echo \"Pivot: GRUB asking for the config of ${net_default_mac} from ${prefix} (booted from"
                + " ${cmdpath}, server ${net_default_server})\"\n"
                + "configfile \"${prefix}/machine/${net_default_mac}.cfg\"\n"
                + "echo \"Pivot: no config for ${net_default_mac} from ${prefix}; retrying in "
                + RETRY_PAUSE_SECONDS + " seconds\"\n"
                + "sleep " + RETRY_PAUSE_SECONDS + "\n"
                + "configfile \"${prefix}/grub.cfg\"\n";
    }

    /** The machine a per-machine config path asks for; empty for any other path. */
    public static Optional<MacAddress> machine(String path) {
        Matcher m = MACHINE.matcher(path);
        return m.matches() ? Optional.of(MacAddress.parse(m.group(1).replace('-', ':'))) : Optional.empty();
    }

    /**
     * The per-machine config: kernel and initrds by content-addressed URL over GRUB's http module, the contract's
     * command line, and a visible failure path naming what could not be loaded. No initrd= words: GRUB hands the
     * initrds to the kernel itself (each aligned to 4 bytes, as the EFI stub needs).
     *
     * @param token this boot's secret: on every artifact URL and the command line (pivot.token=)
     */
    public static String overHttp(BootSpec spec, String baseUrl, MacAddress mac, Optional<String> token) {
        return overHttp(spec, List.of(baseUrl), mac, token);
    }

    /**
     * @param baseUrls the servers that can serve this boot, the one writing the config first: kernel and initrds
     *                 come from the first that answers ({@code if linux A …; then true; elif linux B …}), and stage
     *                 1 is told the others, as in {@link IpxeScript}
     */
    public static String overHttp(BootSpec spec, List<String> baseUrls, MacAddress mac, Optional<String> token) {
        return forMachine(spec, baseUrls, httpSources(baseUrls), mac, token);
    }

    /**
     * The same over TFTP from {@code tftpServer}, for a GRUB without the http module (Debian 12's signed network
     * GRUB, 2.06). The TFTP server knows the machine by its address, so the file names carry no query.
     */
    public static String overTftp(BootSpec spec, String baseUrl, String tftpServer, MacAddress mac,
                                  Optional<String> token) {
        return overTftp(spec, List.of(baseUrl), List.of(tftpServer), mac, token);
    }

    /**
     * @param baseUrls    the servers that can serve this boot (HTTP, for stage 1), this one first
     * @param tftpServers the same servers' TFTP addresses, in the same order: GRUB loads from the first that answers
     */
    public static String overTftp(BootSpec spec, List<String> baseUrls, List<String> tftpServers, MacAddress mac,
                                  Optional<String> token) {
        return forMachine(spec, baseUrls, tftpSources(baseUrls, tftpServers), mac, token);
    }

    /**
     * Over HTTP from each server, then over TFTP from each, for a GRUB that has both (Debian 13's signed network
     * GRUB). Why TFTP after HTTP: GRUB's TCP starts every boot at the same source port with an initial sequence
     * number from its clock, so a machine booting GRUB again soon after its last GRUB boot can meet the server's
     * state of the previous connection on the same addresses and ports, and GRUB's connect then times out; TFTP
     * (a fresh server port per transfer) still loads it.
     */
    public static String overHttpThenTftp(BootSpec spec, List<String> baseUrls, List<String> tftpServers,
                                          MacAddress mac, Optional<String> token) {
        List<Source> sources = new java.util.ArrayList<>(httpSources(baseUrls));
        sources.addAll(tftpSources(baseUrls, tftpServers));
        return forMachine(spec, baseUrls, sources, mac, token);
    }

    /** One place GRUB loads from: a device, the server's base URL, and whether paths carry the machine's query. */
    private record Source(String device, String baseUrl, boolean query) {
        String path(Artifact artifact, MacAddress mac, Optional<String> token) {
            String url = query ? Routes.artifact(baseUrl, artifact, mac, token) : Routes.artifact(baseUrl, artifact);
            return device + url.substring(baseUrl.length());
        }
    }

    private static List<Source> httpSources(List<String> baseUrls) {
        return baseUrls.stream().map(u -> new Source(httpDevice(u), u, true)).toList();
    }

    private static List<Source> tftpSources(List<String> baseUrls, List<String> tftpServers) {
        if (tftpServers.size() != baseUrls.size()) {
            throw new IllegalArgumentException("one TFTP address per server: " + baseUrls + " vs " + tftpServers);
        }
        for (String tftpServer : tftpServers) {
            if (!tftpServer.matches("[0-9.]+|[0-9A-Fa-f:]+")) {
                throw new IllegalArgumentException("TFTP server for GRUB must be an IP address, got '" + tftpServer
                        + "'");
            }
        }
        List<Source> sources = new java.util.ArrayList<>();
        for (int i = 0; i < baseUrls.size(); i++) {
            sources.add(new Source("(tftp," + tftpServers.get(i) + ")", baseUrls.get(i), false));
        }
        return sources;
    }

    private static String forMachine(BootSpec spec, List<String> baseUrls, List<Source> sources, MacAddress mac,
                                     Optional<String> token) {
        if (baseUrls.isEmpty()) {
            throw new IllegalArgumentException("a grub.cfg needs at least one server");
        }
        List<String> devices = sources.stream().map(Source::device).toList();
        Source first = sources.getFirst();
        List<String> cmdline = KernelCommandLine.of(spec, baseUrls, mac, token);
        StringBuilder s = new StringBuilder();
        s.append("# Pivot grub.cfg for ").append(mac).append('\n');
        s.append("set timeout=0\n");
        s.append("echo ").append(quote("Pivot: loading kernel " + spec.kernel().name())).append('\n');
        // Each source in turn (GRUB's if/elif): a server that stopped answering costs its timeout, not the boot.
        for (int i = 0; i < sources.size(); i++) {
            s.append(i == 0 ? "if linux " : "elif linux ")
                    .append(quote(sources.get(i).path(spec.kernel(), mac, token)));
            for (String arg : cmdline) {
                s.append(' ').append(quote(arg));
            }
            s.append("; then true;\n");
        }
        s.append("else\n");
        fail(s, devices, mac, "FAILED to load kernel " + spec.kernel().name() + " from "
                + new Source(first.device(), first.baseUrl(), false).path(spec.kernel(), mac, Optional.empty())
                + others(devices));
        s.append("fi\n");
        if (!spec.initrds().isEmpty()) {
            s.append("echo ").append(quote("Pivot: loading initrds " + String.join(" ",
                    spec.initrds().stream().map(Artifact::name).toList()))).append('\n');
            for (int i = 0; i < sources.size(); i++) {
                s.append(i == 0 ? "if initrd" : "elif initrd");
                for (Artifact initrd : spec.initrds()) {
                    s.append(' ').append(quote(sources.get(i).path(initrd, mac, token)));
                }
                s.append("; then true;\n");
            }
            s.append("else\n");
            fail(s, devices, mac, "FAILED to load initrds " + String.join(" ", spec.initrds().stream().map(Artifact::name)
                    .toList()) + others(devices));
            s.append("fi\n");
        }
        s.append("echo ").append(quote("Pivot: booting")).append('\n');
        s.append("boot\n");
        s.append("echo ").append(quote("Pivot: FAILED to boot kernel " + spec.kernel().name())).append('\n');
        retry(s, devices, mac, "");
        return s.toString();
    }

    private static String others(List<String> devices) {
        return devices.size() == 1 ? "" : " and " + (devices.size() - 1) + " other source"
                + (devices.size() == 2 ? "" : "s");
    }

    /** For a machine the catalog does not boot: say so on its console and give the firmware back control. */
    public static String noImage(MacAddress mac) {
        return "# Pivot\necho " + quote("Pivot: no image assigned to MAC " + mac) + "\nsleep 5\nexit 1\n";
    }

    /**
     * After a pause, the config again from each source; when none can be read (a configfile that cannot be read
     * returns), back to the firmware rather than on to booting a kernel without what failed to load.
     */
    private static void fail(StringBuilder s, List<String> devices, MacAddress mac, String message) {
        s.append("  echo ").append(quote("Pivot: " + message)).append('\n');
        retry(s, devices, mac, "  ");
        s.append("  echo ").append(quote("Pivot: no config could be read again; back to the firmware")).append('\n');
        s.append("  exit 1\n");
    }

    /** After a pause, the config again from each server in turn: a configfile that cannot be read returns. */
    private static void retry(StringBuilder s, List<String> devices, MacAddress mac, String indent) {
        s.append(indent).append("sleep ").append(RETRY_PAUSE_SECONDS).append('\n');
        for (String device : devices) {
            s.append(indent).append("configfile ").append(quote(device + Routes.grubMachinePath(mac))).append('\n');
        }
    }

    /** {@code (http,HOST[:PORT])} for GRUB's http module; https is refused: GRUB 2.06 has no TLS. */
    static String httpDevice(String baseUrl) {
        URI uri = URI.create(baseUrl);
        if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("GRUB loads over plain http:// only, not from '" + baseUrl + "'");
        }
        if (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/")) {
            throw new IllegalArgumentException("GRUB needs a base URL without a path, got '" + baseUrl + "'");
        }
        return "(http," + uri.getRawAuthority() + ")";
    }

    /**
     * One GRUB word in single quotes: no variable expansion, no globbing ('?' is a wildcard to GRUB), no command
     * separators. A single quote inside is closed, escaped and reopened, as in a POSIX shell.
     */
    static String quote(String word) {
        if (word.chars().anyMatch(c -> c < ' ' || c == 127)) {
            throw new IllegalArgumentException("cannot put a control character into grub.cfg: '" + word + "'");
        }
        return "'" + word.replace("'", "'\\''") + "'";
    }
}
