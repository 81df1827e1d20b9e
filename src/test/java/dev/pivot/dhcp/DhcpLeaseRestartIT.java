package dev.pivot.dhcp;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Leases survive {@code kill -9}: a server with a {@link FileLeaseStore} ACKs client A, is SIGKILLed right after
 * that ACK, restarts on the same file; client B (another MAC) asks for A's address and gets another one, and A
 * renewing (unicast REQUEST, busybox udhcpc on SIGUSR1) keeps its address. The pool holds two addresses, so a
 * server that forgot A's lease would have handed A's address to B.
 *
 * <p>Namespaces: server (10.77.0.1/24) ↔ veth ↔ client; client B is a macvlan on the client's veth, with its own
 * MAC, so both clients share one link as two machines on a LAN do.
 */
class DhcpLeaseRestartIT {

    private static final String SERVER_IP = "10.77.0.1";
    private static final String MAC_A = "52:54:00:79:00:0a";
    private static final String MAC_B = "52:54:00:79:00:0b";

    private Lab lab;
    private String serverNs;
    private String clientNs;
    private String clientIf;
    private Path stateDir;
    private Path udhcpcScript;

    @BeforeEach
    void namespaces() throws Exception {
        assumeTrue(Lab.isRoot(), "needs root for network namespaces");
        assumeTrue(Lab.hasCommand("ip"), "needs iproute2 (ip)");
        assumeTrue(Lab.hasCommand("busybox"), "needs busybox for udhcpc");
        lab = new Lab();
        serverNs = lab.namespace("dhcp-ks");
        clientNs = lab.namespace("dhcp-kc");
        clientIf = "pvc" + lab.id;
        String serverIf = "pvs" + lab.id;
        lab.run("ip", "link", "add", serverIf, "netns", serverNs, "type", "veth", "peer", "name", clientIf,
                "netns", clientNs);
        lab.run("ip", "-n", serverNs, "addr", "add", SERVER_IP + "/24", "dev", serverIf);
        lab.run("ip", "-n", serverNs, "link", "set", serverIf, "up");
        lab.run("ip", "-n", clientNs, "link", "set", clientIf, "address", MAC_A);
        lab.run("ip", "-n", clientNs, "link", "set", clientIf, "up");
        lab.run("ip", "-n", clientNs, "link", "add", "pvb" + lab.id, "link", clientIf, "type", "macvlan",
                "mode", "bridge");
        lab.run("ip", "-n", clientNs, "link", "set", "pvb" + lab.id, "address", MAC_B);
        lab.run("ip", "-n", clientNs, "link", "set", "pvb" + lab.id, "up");
        stateDir = Files.createTempDirectory("pivot-dhcp-state");
        udhcpcScript = lab.tempFile("pivot-udhcpc", ".sh");
        Files.writeString(udhcpcScript, """
                #!/bin/sh
                # udhcpc hook: print the lease on "bound"/"renew" and configure it; the test reads these lines.
                case "$1" in
                bound|renew)
                    echo "LEASE $1 ip=$ip serverid=$serverid"
                    [ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface" ;;
                esac
                exit 0
                """);
        udhcpcScript.toFile().setExecutable(true, true);
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (lab != null) {
            lab.close();
        }
        if (stateDir != null) {
            try (Stream<Path> files = Files.walk(stateDir)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    @Test
    void aSigkilledServerRestartsWithItsLeases() throws Exception {
        Path leaseFile = stateDir.resolve("dhcp-leases");
        Map<String, String> props = Map.of("pivot.test.leases", leaseFile.toString());
        String[] args = {"full", SERVER_IP, "8080", "10.77.0.50", "10.77.0.51", "24"};
        Lab.Server first = lab.startDhcpServerProcess(serverNs, props, args);

        List<String> clientA = new CopyOnWriteArrayList<>();
        Process a = lab.start(List.of("ip", "netns", "exec", clientNs, "busybox", "udhcpc", "-i", clientIf,
                "-f", "-n", "-t", "5", "-T", "1", "-s", udhcpcScript.toString()), clientA);
        Lab.awaitLine(clientA, 20, l -> l.startsWith("LEASE bound ip=10.77.0.50"), "LEASE bound for A");
        // SIGKILL at once: the lease must already be on disk, since the ACK is only sent after its fsync.
        lab.run("kill", "-KILL", Long.toString(first.process().pid()));
        assertThat(first.process().waitFor() ).isEqualTo(128 + 9);

        Lab.Server second = lab.startDhcpServerProcess(serverNs, props, args);
        Lab.Result b = lab.exec(30, "ip", "netns", "exec", clientNs, "busybox", "udhcpc", "-i", "pvb" + lab.id,
                "-f", "-q", "-n", "-t", "5", "-T", "1", "-r", "10.77.0.50", "-s", udhcpcScript.toString());
        lab.run("kill", "-USR1", Long.toString(a.pid()));
        Lab.awaitLine(clientA, 20, l -> l.startsWith("LEASE renew"), "LEASE renew for A");

        assertThat(b.output()).as("client B, server: %s", second.output()).contains("LEASE bound ip=10.77.0.51");
        assertThat(clientA).contains("LEASE renew ip=10.77.0.50 serverid=10.77.0.1");
        assertThat(second.output()).contains("EVENT " + MAC_B + " ack 10.77.0.51", "EVENT " + MAC_A + " renew 10.77.0.50")
                .noneMatch(l -> l.contains(MAC_A) && l.contains("nak"));
        assertThat(Files.readString(leaseFile)).contains("10.77.0.50 " + MAC_A, "10.77.0.51 " + MAC_B);
    }
}
