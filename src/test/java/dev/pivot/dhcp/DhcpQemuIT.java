package dev.pivot.dhcp;

import dev.pivot.testsupport.Require;
import dev.pivot.demo.NetNamespace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real PXE client: QEMU's iPXE option ROM (SeaBIOS, virtio-net) on a LAN inside network namespaces. Pivot's
 * DHCP must get it to fetch {@code http://10.77.0.1:8080/boot.ipxe?mac=…}, alone (FULL) and next to a plain
 * DHCP server that knows nothing about booting (PROXY; dnsmasq-base plays the router). The LAN is a bridge in
 * the Pivot namespace holding QEMU's tap and a veth to the router's namespace.
 */
class DhcpQemuIT {

    private static final String MAC = "52:54:00:77:00:21";
    private static final Path OVMF = Path.of("/usr/share/ovmf/OVMF.fd");
    private static final String SCRIPT_REQUEST = "HTTP GET /boot.ipxe?mac=" + MAC;

    private Lab lab;
    private NetNamespace lanNs;
    private NetNamespace routerNs;
    private String routerIf;
    private Path serialLog;

    @BeforeEach
    void lan() throws Exception {
        Require.vmLab();
        lab = new Lab();
        lanNs = lab.namespace("dhcpln");
        routerNs = lab.namespace("dhcprt");
        routerIf = "pvr" + lab.id;
        lanNs.addBridge("br0");
        lanNs.addAddress("br0", "10.77.0.1/24");
        lanNs.addTap("tap0");
        lanNs.attach("tap0", "br0");
        lanNs.addVethTo("pvl" + lab.id, routerNs, routerIf);
        lanNs.attach("pvl" + lab.id, "br0");
        routerNs.addAddress(routerIf, "10.77.0.254/24");
        serialLog = lab.tempFile("pivot-dhcp-qemu", ".log");
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void fullModeBringsQemusIpxeToTheScript() throws Exception {
        List<String> server = lab.startDhcpServer(lanNs, true, "full", "10.77.0.1", "8080", "10.77.0.50",
                "10.77.0.60", "24");

        long took = bootUntilScript(server);

        assertThat(server).contains("EVENT " + MAC + " ack 10.77.0.50 → http://10.77.0.1:8080/boot.ipxe?mac=" + MAC);
        System.out.printf("FULL: QEMU start → script request in %d ms%n", took);
    }

    @Test
    void proxyModeBringsQemusIpxeToTheScriptNextToAPlainDhcpServer() throws Exception {
        List<String> router = startRouter();
        List<String> server = lab.startDhcpServer(lanNs, true, "proxy", "10.77.0.1", "8080");

        long took = bootUntilScript(server);

        assertThat(server).contains("EVENT " + MAC + " proxy offer http://10.77.0.1:8080/boot.ipxe?mac=" + MAC);
        assertThat(router).anyMatch(l -> l.contains("DHCPACK") && l.contains(MAC));
        System.out.printf("PROXY: QEMU start → script request in %d ms%n", took);
    }

    @Test
    void fullModeSendsOvmfsOwnPxeToIpxeEfiOverTftp() throws Exception {
        List<String> server = lab.startDhcpServer(lanNs, Map.of("pivot.test.tftp", "true"), "full", "10.77.0.1",
                "8080", "10.77.0.50", "10.77.0.60", "24");

        long took = bootUefiUntilTftp(server);

        assertThat(server).contains("EVENT " + MAC + " ack 10.77.0.50 → ipxe.efi");
        System.out.printf("FULL UEFI: QEMU start → TFTP ipxe.efi in %d ms%n", took);
    }

    @Test
    void proxyModeSendsOvmfsOwnPxeToIpxeEfiOverTftpNextToAPlainDhcpServer() throws Exception {
        List<String> router = startRouter();
        List<String> server = lab.startDhcpServer(lanNs, Map.of("pivot.test.tftp", "true"), "proxy", "10.77.0.1",
                "8080");

        long took = bootUefiUntilTftp(server);

        // UEFI PXE gets the proxy offer without option 43, as pixiecore does it, and still loads the file.
        assertThat(server).contains("EVENT " + MAC + " proxy offer ipxe.efi");
        assertThat(router).anyMatch(l -> l.contains("DHCPACK") && l.contains(MAC));
        System.out.printf("PROXY UEFI: QEMU start → TFTP ipxe.efi in %d ms%n", took);
    }

    private List<String> startRouter() throws Exception {
        Path leases = lab.tempFile("pivot-dnsmasq", ".leases");
        List<String> router = new CopyOnWriteArrayList<>();
        lab.start(routerNs, List.of("dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                "--port=0", "--user=root", "--group=root", "--interface=" + routerIf, "--bind-interfaces",
                "--dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h", "--no-ping", "--log-dhcp",
                "--dhcp-leasefile=" + leases), router);
        return router;
    }

    /** OVMF with the NIC's iPXE ROM disabled: a genuine non-iPXE UEFI PXE client. Waits for its TFTP request. */
    private long bootUefiUntilTftp(List<String> server) throws Exception {
        long start = System.currentTimeMillis();
        lab.start(lanNs, List.of("qemu-system-x86_64", "-accel", "tcg", "-m", "512",
                "-bios", OVMF.toString(), "-nographic", "-monitor", "none", "-serial", "file:" + serialLog,
                "-boot", "n", "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
                "-device", "virtio-net-pci,netdev=n0,romfile=,mac=" + MAC), new CopyOnWriteArrayList<>());
        try {
            Lab.awaitLine(server, 120, l -> l.equals("TFTP RRQ ipxe.efi"), "TFTP RRQ ipxe.efi");
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nserial console:\n" + Files.readString(serialLog), e);
        }
        return System.currentTimeMillis() - start;
    }

    /** Starts the VM and waits for iPXE's request for the script; returns how long it took. */
    private long bootUntilScript(List<String> server) throws Exception {
        long start = System.currentTimeMillis();
        lab.start(lanNs, List.of("qemu-system-x86_64", "-accel", "tcg", "-m", "256",
                "-nographic", "-monitor", "none", "-serial", "file:" + serialLog, "-boot", "n",
                "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
                "-device", "virtio-net-pci,netdev=n0,mac=" + MAC), new CopyOnWriteArrayList<>());
        try {
            Lab.awaitLine(server, 90, l -> l.startsWith(SCRIPT_REQUEST), SCRIPT_REQUEST);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nserial console:\n" + Files.readString(serialLog), e);
        }
        return System.currentTimeMillis() - start;
    }
}
