package dev.pivot.demo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * dnsmasq-base as a peer inside a lab namespace: never a system service, no DNS (`--port=0`), only the roles
 * asked for. Runs as root so it can read lab files in private temp directories.
 */
public final class Dnsmasq {
    private Dnsmasq() {}

    /**
     * A plain DHCP server — the network's "router" — with no boot options at all, so PXE clients need a
     * ProxyDHCP (Pivot's `--dhcp proxy`) beside it. `--no-ping` (pitfall 2: the ping costs ~3 s per boot).
     */
    public static Process plainDhcp(NetNamespace ns, String iface, String rangeStart, String rangeEnd,
                                    String routerAddress, Path workDir) {
        List<String> cmd = base(iface, workDir, "router");
        cmd.add("--dhcp-range=" + rangeStart + "," + rangeEnd + ",255.255.255.0,1h");
        cmd.add("--dhcp-option=option:router," + routerAddress);
        cmd.add("--no-ping");
        cmd.add("--dhcp-leasefile=" + workDir.resolve("router.leases"));
        return ns.start(cmd, workDir.resolve("router.out"));
    }

    /**
     * The IPv6 trick of pitfall 1: a router advertisement with router lifetime 0 for a ULA prefix on `iface`,
     * so iPXE's IPv6 autoconfiguration ends at once instead of waiting ~13 s. No DHCPv4 (no IPv4 range).
     * `iface` must carry a ULA address (e.g. fd77:77::1/64).
     */
    public static Process routerAdvertisements(NetNamespace ns, String iface, Path workDir) {
        List<String> cmd = base(iface, workDir, "ra");
        cmd.add("--enable-ra");
        cmd.add("--dhcp-range=::,constructor:" + iface + ",ra-only");
        cmd.add("--ra-param=" + iface + ",10,0");
        return ns.start(cmd, workDir.resolve("ra.out"));
    }

    /**
     * The development harness's PXE server: full DHCP, TFTP of the first loaders, and an HTTP script URL for
     * iPXE clients (option 175 present), as a person would configure dnsmasq by hand.
     */
    public static Process pxe(NetNamespace ns, String iface, String rangeStart, String rangeEnd, Path tftpRoot,
                              String ipxeScriptUrl, Path workDir) {
        List<String> cmd = base(iface, workDir, "pxe");
        cmd.add("--dhcp-range=" + rangeStart + "," + rangeEnd + ",255.255.255.0,1h");
        cmd.add("--no-ping");
        cmd.add("--dhcp-leasefile=" + workDir.resolve("pxe.leases"));
        cmd.add("--enable-tftp");
        cmd.add("--tftp-root=" + tftpRoot);
        cmd.add("--dhcp-match=set:ipxe,175");
        cmd.add("--dhcp-match=set:efi64,option:client-arch,7");
        cmd.add("--dhcp-boot=tag:ipxe," + ipxeScriptUrl);
        cmd.add("--dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi");
        cmd.add("--dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe");
        return ns.start(cmd, workDir.resolve("pxe.out"));
    }

    private static List<String> base(String iface, Path workDir, String role) {
        return new ArrayList<>(List.of("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
                "--user=root", "--interface=" + iface, "--bind-interfaces", "--except-interface=lo",
                "--pid-file=" + workDir.resolve(role + ".pid"), "--log-facility=" + workDir.resolve(role + ".log"),
                "--log-dhcp"));
    }
}
