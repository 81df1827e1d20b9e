package dev.pivot.dhcp;

import dev.pivot.demo.NetNamespace;
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

    private static final String SERVER_IP = Lab.SERVER_IP;
    private static final String MAC_A = "52:54:00:79:00:0a";
    private static final String MAC_B = "52:54:00:79:00:0b";

    private Lab lab;
    private NetNamespace serverNs;
    private NetNamespace clientNs;
    private String clientIf;
    private Path stateDir;
    private Path udhcpcScript;

    @BeforeEach
    void namespaces() throws Exception {
        Lab.requireUdhcpcLab();
        lab = new Lab();
        Lab.ClientServerLan lan = lab.clientServerLan("dhcpks", "dhcpkc", MAC_A);
        serverNs = lan.server();
        clientNs = lan.client();
        clientIf = lan.clientIf();
        udhcpcScript = lan.udhcpcScript();
        clientNs.ip("link", "add", "pvb" + lab.id, "link", clientIf, "type", "macvlan", "mode", "bridge");
        clientNs.ip("link", "set", "pvb" + lab.id, "address", MAC_B);
        clientNs.ip("link", "set", "pvb" + lab.id, "up");
        stateDir = Files.createTempDirectory("pivot-dhcp-state");
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
        Process a = lab.start(clientNs, List.of("busybox", "udhcpc", "-i", clientIf,
                "-f", "-n", "-t", "5", "-T", "1", "-s", udhcpcScript.toString()), clientA);
        Lab.awaitLine(clientA, 20, l -> l.startsWith("LEASE bound ip=10.77.0.50"), "LEASE bound for A");
        // SIGKILL at once: the lease must already be on disk, since the ACK is only sent after its fsync.
        Lab.signal(first.process(), "KILL");
        assertThat(first.process().waitFor() ).isEqualTo(128 + 9);

        Lab.Server second = lab.startDhcpServerProcess(serverNs, props, args);
        Lab.Result b = lab.exec(clientNs, 30, "busybox", "udhcpc", "-i", "pvb" + lab.id,
                "-f", "-q", "-n", "-t", "5", "-T", "1", "-r", "10.77.0.50", "-s", udhcpcScript.toString());
        Lab.signal(a, "USR1");
        Lab.awaitLine(clientA, 20, l -> l.startsWith("LEASE renew"), "LEASE renew for A");

        assertThat(b.output()).as("client B, server: %s", second.output()).contains("LEASE bound ip=10.77.0.51");
        assertThat(clientA).filteredOn(l -> l.startsWith("LEASE renew ")).map(Lab::leaseFields)
                .anySatisfy(lease -> assertThat(lease).containsEntry("ip", "10.77.0.50")
                        .containsEntry("serverid", SERVER_IP));
        assertThat(second.output()).contains("EVENT " + MAC_B + " ack 10.77.0.51", "EVENT " + MAC_A + " renew 10.77.0.50")
                .noneMatch(l -> l.contains(MAC_A) && l.contains("nak"));
        assertThat(Files.readString(leaseFile)).contains("10.77.0.50 " + MAC_A, "10.77.0.51 " + MAC_B);
    }
}
