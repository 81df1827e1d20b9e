package dev.pivot.loaders;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.MacAddress;

import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * The HTTP paths a machine is sent to, and the base URL they hang off: built here and nowhere else, so the URLs
 * DHCP, the scripts, the PXELINUX configs and kexec hand out are the ones the HTTP server answers.
 */
public final class Routes {

    /** The per-machine iPXE script: {@code /boot.ipxe?mac=MAC}. */
    public static final String SCRIPT = "/boot.ipxe";
    /** Content-addressed artifacts: {@code /artifacts/<sha256>/<name>}. */
    public static final String ARTIFACTS = "/artifacts/";
    /** Stage-1 reports: {@code /report?mac=&step=&status=&detail=}. */
    public static final String REPORT = "/report";
    /** The distro's iPXE binaries, for UEFI HTTP Boot: {@code /ipxe/<file>}. */
    public static final String IPXE_FILES = "/ipxe/";
    /** The grub.cfg GRUB's network image reads first (its prefix is "/grub"): the same for every machine. */
    public static final String GRUB_BOOTSTRAP = "/grub/grub.cfg";
    /** Per-machine grub.cfg files: {@code /grub/machine/<mac>.cfg}. */
    public static final String GRUB_MACHINE = "/grub/machine/";
    /** The query parameter that names the machine on every machine-facing URL. */
    public static final String MAC = "mac";

    /**
     * The servers a machine is told to try, in order: this one's base URL first, then every other live server's,
     * each once (a server's own URL can be among its peers').
     */
    public static java.util.List<String> thisServerFirst(String baseUrl, java.util.List<String> peers) {
        java.util.LinkedHashSet<String> all = new java.util.LinkedHashSet<>();
        all.add(baseUrl);
        all.addAll(peers);
        return java.util.List.copyOf(all);
    }

    private Routes() {
    }

    /** {@code http://HOST[:PORT]} for an address (IPv6 in brackets, without a zone), the port left out when 80. */
    public static String baseUrl(InetAddress host, int port) {
        String literal = host.getHostAddress().replaceFirst("%.*$", "");
        return baseUrl((host instanceof Inet6Address ? "[" + literal + "]" : literal) + (port == 80 ? "" : ":" + port));
    }

    /** {@code http://AUTHORITY} for a host[:port] as a client named it (its Host header). */
    public static String baseUrl(String authority) {
        return "http://" + authority;
    }

    /** The per-machine script's path (for DHCP, relative to the base URL). */
    public static String scriptPath(MacAddress mac) {
        return SCRIPT + "?" + MAC + "=" + mac;
    }

    /** The query parameter of a boot menu's choice: one generation of the machine's profile. */
    public static final String GENERATION = "generation";

    /** The per-machine script for one generation of its profile, as a boot menu chains to it. */
    public static String scriptPath(MacAddress mac, int generation) {
        return scriptPath(mac) + "&" + GENERATION + "=" + generation;
    }

    /** The per-machine script's path with an iPXE variable for the MAC ("${net0/mac}"), for a chain command. */
    public static String scriptPath(String ipxeVariable) {
        return SCRIPT + "?" + MAC + "=" + ipxeVariable;
    }

    /** An artifact by content: {@code BASE/artifacts/<sha256>/<name>}. */
    public static String artifact(String baseUrl, Artifact artifact) {
        return baseUrl + ARTIFACTS + artifact.sha256() + "/" + artifact.name();
    }

    /** An artifact tagged with the machine, so the server can name it in its events. */
    public static String artifact(String baseUrl, Artifact artifact, MacAddress mac) {
        return artifact(baseUrl, artifact) + "?" + MAC + "=" + mac;
    }

    /** As above, with the boot's secret, so the server counts the download as this machine's. */
    public static String artifact(String baseUrl, Artifact artifact, MacAddress mac, java.util.Optional<String> token) {
        return artifact(baseUrl, artifact, mac) + token.map(t -> "&" + TOKEN + "=" + t).orElse("");
    }

    /** The query parameter carrying a boot's secret on the URLs of its script. */
    public static final String TOKEN = "token";

    /** A machine's grub.cfg: {@code /grub/machine/52:54:00:12:34:56.cfg}. */
    public static String grubMachinePath(MacAddress mac) {
        return GRUB_MACHINE + mac + ".cfg";
    }

    /** A distro iPXE binary's path, for UEFI HTTP Boot. */
    public static String ipxeFilePath(String file) {
        return IPXE_FILES + file;
    }
}
