package dev.pivot.dhcp;

import dev.pivot.testsupport.Require;
import dev.pivot.demo.NetNamespace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pivot's DHCP server against busybox udhcpc, in two network namespaces joined by a veth pair: the server side
 * has 10.77.0.1/24, the client side starts without an address. The server runs as a child JVM inside its
 * namespace ({@link DhcpServerMain}); nothing here touches the host's own network.
 */
class DhcpServerIT {

    private static final String SERVER_IP = Lab.SERVER_IP;

    private Lab lab;
    private NetNamespace serverNs;
    private NetNamespace clientNs;
    private String clientIf;
    private String serverIf;
    private Path udhcpcScript;

    @BeforeEach
    void namespaces() throws Exception {
        Lab.requireUdhcpcLab();
        lab = new Lab();
        Lab.ClientServerLan lan = lab.clientServerLan("dhcps", "dhcpc", "52:54:00:77:00:01");
        serverNs = lan.server();
        clientNs = lan.client();
        serverIf = lan.serverIf();
        clientIf = lan.clientIf();
        udhcpcScript = lan.udhcpcScript();
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void fullModeLeasesDifferentAddressesToTwoClientsAndBootOptionsOnlyToPxe() throws Exception {
        List<String> server = lab.startDhcpServer(serverNs, false, "full", SERVER_IP, "8080", "10.77.0.50",
                "10.77.0.60", "24");

        Map<String, String> first = udhcpc(server);
        newMac("52:54:00:77:00:02");
        Map<String, String> second = udhcpc(server);
        newMac("52:54:00:77:00:03");
        Map<String, String> pxe = udhcpc(server, "-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000");
        newMac("52:54:00:77:00:04");
        Map<String, String> ipxe = udhcpc(server, "-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x4d:69505845");

        assertThat(first.get("ip")).isEqualTo("10.77.0.50");
        assertThat(first.get("mask")).isEqualTo("24");
        assertThat(first.get("serverid")).isEqualTo(SERVER_IP);
        assertThat(first.get("boot_file")).isEmpty();
        assertThat(second.get("ip")).isEqualTo("10.77.0.51");
        assertThat(pxe.get("ip")).isEqualTo("10.77.0.52");
        assertThat(pxe.get("boot_file")).isEqualTo("undionly.kpxe");
        assertThat(pxe.get("siaddr")).isEqualTo(SERVER_IP);
        assertThat(ipxe.get("boot_file")).isEqualTo("http://10.77.0.1:8080/boot.ipxe?mac=52:54:00:77:00:04");
        assertThat(server).contains(
                "EVENT 52:54:00:77:00:01 ack 10.77.0.50",
                "EVENT 52:54:00:77:00:02 ack 10.77.0.51",
                "EVENT 52:54:00:77:00:03 ack 10.77.0.52 → undionly.kpxe");
    }

    @Test
    void fullModeRenewsTheSameAddressOnUnicast() throws Exception {
        List<String> server = lab.startDhcpServer(serverNs, false, "full", SERVER_IP, "8080", "10.77.0.50",
                "10.77.0.60", "24");
        // A long-running udhcpc: its script configures the address on "bound", and SIGUSR1 makes it renew, which
        // busybox does by unicast from the configured address (ciaddr set) to the server id.
        List<String> output = new CopyOnWriteArrayList<>();
        Process client = lab.start(clientNs, List.of("busybox", "udhcpc", "-i", clientIf,
                "-f", "-n", "-t", "5", "-T", "1", "-s", udhcpcScript.toString()), output);
        Lab.awaitLine(output, 15, l -> l.startsWith("LEASE bound ip=10.77.0.50"), "LEASE bound");

        Lab.signal(client, "USR1");
        Lab.awaitLine(output, 15, l -> l.startsWith("LEASE renew ip=10.77.0.50"), "LEASE renew");

        assertThat(server).contains("EVENT 52:54:00:77:00:01 ack 10.77.0.50",
                "EVENT 52:54:00:77:00:01 renew 10.77.0.50");
    }

    @Test
    void proxyModeIgnoresPlainClientsAndGivesPxeClientsTheBootFileWithoutAnAddress() throws Exception {
        List<String> server = lab.startDhcpServer(serverNs, false, "proxy", SERVER_IP, "8080");

        Lab.Result plain = lab.exec(clientNs, 20, "busybox", "udhcpc", "-i", clientIf, "-f",
                "-q", "-n", "-t", "3", "-T", "1", "-s", udhcpcScript.toString());
        assertThat(plain.exitCode()).as("udhcpc output: %s", plain.output()).isNotZero();
        assertThat(plain.output()).doesNotContain("LEASE");

        clientNs.addAddress(clientIf, "10.77.0.99/24");
        Lab.Result probe = lab.exec(clientNs, 30, Lab.javaBin(), "-cp",
                System.getProperty("java.class.path"), DhcpProbeMain.class.getName(), "10.77.0.99", SERVER_IP,
                "52:54:00:77:00:09");

        assertThat(probe.output()).contains("OFFER yiaddr=0.0.0.0 siaddr=10.77.0.1 file=undionly.kpxe "
                + "vendor=PXEClient pxe43=060108ff server=10.77.0.1");
        assertThat(probe.output()).contains("ACK yiaddr=0.0.0.0 siaddr=10.77.0.1 file=undionly.kpxe "
                + "vendor=PXEClient pxe43=060108ff server=10.77.0.1");
        assertThat(server).contains("EVENT 52:54:00:77:00:09 proxy offer undionly.kpxe",
                "EVENT 52:54:00:77:00:09 proxy ack undionly.kpxe");
        assertThat(server).noneMatch(line -> line.startsWith("EVENT 52:54:00:77:00:01"));
    }

    @Test
    void boundToItsInterfaceTheServerDoesNotHearOtherNetworks() throws Exception {
        NetNamespace otherNs = otherLan();
        List<String> server = lab.startDhcpServer(serverNs, Map.of("pivot.test.interface", serverIf), "full",
                SERVER_IP, "8080", "10.77.0.50", "10.77.0.60", "24");

        Lab.Result other = lab.exec(otherNs, 20, "busybox", "udhcpc", "-i", "pvo" + lab.id,
                "-f", "-q", "-n", "-t", "2", "-T", "1", "-s", udhcpcScript.toString());
        Map<String, String> lease = udhcpc(server);

        assertThat(other.exitCode()).as("udhcpc on the other LAN: %s", other.output()).isNotZero();
        assertThat(lease.get("ip")).isEqualTo("10.77.0.50");
        assertThat(server).noneMatch(l -> l.contains("52:54:00:78:00:01") || l.contains("not bound to interface"));
    }

    @Test
    void withoutAnInterfaceTheServerHearsOtherNetworksButAnswersOnlyOnItsOwn() throws Exception {
        NetNamespace otherNs = otherLan();
        List<String> server = lab.startDhcpServer(serverNs, false, "full", SERVER_IP, "8080", "10.77.0.50",
                "10.77.0.60", "24");

        Lab.Result other = lab.exec(otherNs, 20, "busybox", "udhcpc", "-i", "pvo" + lab.id,
                "-f", "-q", "-n", "-t", "2", "-T", "1", "-s", udhcpcScript.toString());

        // The offer leaves through 10.77.0.1's interface, so the other LAN's client never sees it.
        assertThat(other.exitCode()).as("udhcpc on the other LAN: %s", other.output()).isNotZero();
        assertThat(server).anyMatch(l -> l.startsWith("EVENT 52:54:00:78:00:01 offer"));
    }

    @Test
    void iscDhclientGetsALease() throws Exception {
        Require.command("dhclient");
        List<String> server = lab.startDhcpServer(serverNs, false, "full", SERVER_IP, "8080", "10.77.0.50",
                "10.77.0.60", "24");
        Path leases = lab.tempFile("pivot-dhclient", ".leases");
        Path pid = lab.tempFile("pivot-dhclient", ".pid");
        List<String> output = new CopyOnWriteArrayList<>();

        // -d keeps it in the foreground (so we hold its PID); it prints "bound to ADDRESS" once it has a lease.
        lab.start(clientNs, List.of("dhclient", "-d", "-v", "-1", "-sf", "/bin/true",
                "-lf", leases.toString(), "-pf", pid.toString(), clientIf), output);
        Lab.awaitLine(output, 30, l -> l.startsWith("bound to 10.77.0.50"), "'bound to 10.77.0.50'");

        assertThat(Files.readString(leases)).contains("fixed-address 10.77.0.50;", "option dhcp-server-identifier 10.77.0.1;");
        assertThat(server).contains("EVENT 52:54:00:77:00:01 ack 10.77.0.50");
    }

    @Test
    void dhcpcdGetsALease() throws Exception {
        Require.command("dhcpcd");
        List<String> server = lab.startDhcpServer(serverNs, false, "full", SERVER_IP, "8080", "10.77.0.50",
                "10.77.0.60", "24");

        // IPv4 only, one shot, no ARP probe, no config file and no hooks: just the DHCP conversation.
        Lab.Result r = lab.exec(clientNs, 40, "dhcpcd", "-4", "-1", "-B", "-A", "-L",
                "-t", "20", "-f", "/dev/null", "-c", "/bin/true", clientIf);
        try {
            assertThat(r.output()).as("dhcpcd: exit %d", r.exitCode()).contains("leased 10.77.0.50");
            assertThat(server).contains("EVENT 52:54:00:77:00:01 ack 10.77.0.50");
        } finally {
            // dhcpcd keeps the lease under /var/lib/dhcpcd by interface name; ours is unique to this run.
            try (var files = Files.list(Path.of("/var/lib/dhcpcd"))) {
                for (Path f : files.filter(f -> f.getFileName().toString().startsWith(clientIf)).toList()) {
                    Files.deleteIfExists(f);
                }
            } catch (java.nio.file.NoSuchFileException ignored) {
                // nothing stored
            }
        }
    }

    /** A second LAN on the server's namespace (10.78.0.1/24) with a client namespace of its own. */
    private NetNamespace otherLan() {
        NetNamespace otherNs = lab.namespace("dhcpo");
        serverNs.addVethTo("pvx" + lab.id, otherNs, "pvo" + lab.id);
        serverNs.addAddress("pvx" + lab.id, "10.78.0.1/24");
        otherNs.ip("link", "set", "pvo" + lab.id, "address", "52:54:00:78:00:01");
        return otherNs;
    }

    private void newMac(String mac) {
        clientNs.ip("addr", "flush", "dev", clientIf);
        clientNs.ip("link", "set", clientIf, "address", mac);
    }

    private Map<String, String> udhcpc(List<String> server, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("busybox", "udhcpc", "-i", clientIf,
                "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", udhcpcScript.toString()));
        cmd.addAll(List.of(extra));
        Lab.Result r = lab.exec(clientNs, 30, cmd.toArray(String[]::new));
        assertThat(r.exitCode()).as("udhcpc failed: %s\nserver: %s", r.output(), server).isZero();
        String line = r.output().lines().filter(l -> l.startsWith("LEASE bound ")).findFirst().orElseThrow(() ->
                new AssertionError("udhcpc printed no lease: " + r.output()));
        return Lab.leaseFields(line);
    }
}
