package dev.pivot.dhcp;

import dev.pivot.demo.NetNamespace;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `pivot serve --dhcp full` (the ./pivot launcher) with a 20-address range, flooded by 2,000 DISCOVERs from random
 * MACs in 4 s (inside private namespaces): the flood's offers hold at most half the range, and a machine that
 * already has a lease keeps being served: busybox udhcpc renews it during the flood and, starting over, gets its
 * address back. The flood leaves no machine records; a script fetch makes one. With --dhcp-known-only the same
 * flood gets no offer at all while a machine of a group gets its first address during it.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class DhcpPoolPressureIT {

    private static final String KNOWN = "52:54:00:7c:00:01";
    private static final String UNKNOWN = "52:54:00:7c:00:09";
    private static final String API = "http://" + Lab.SERVER_IP + "/api/v1/machines";

    @TempDir
    Path tmp;

    private Lab lab;

    @AfterEach
    void cleanUp() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void randomMacsCannotTakeTheRangeFromAMachineWithALease() throws Exception {
        Lab.requireUdhcpcLab();
        Require.command("curl");
        lab = new Lab();
        Lab.ClientServerLan lan = lab.clientServerLan("dpps", "dppc", KNOWN);
        NetNamespace client = lan.client();
        Path image = TestImage.nixos(tmp, "pressure");
        String pivot = Require.pivotRoot().resolve("pivot").toString();
        List<String> output = new CopyOnWriteArrayList<>();
        Process server = lab.start(lan.server(), List.of(pivot, "serve", image.toString(), "--skip-check",
                "--interface", lan.serverIf(), "--dhcp", "full", "--range", "10.77.0.100-10.77.0.119",
                "--state", tmp.resolve("state").toString()), output);
        Lab.awaitLine(output, 180, l -> l.startsWith("pivot: waiting for machines") || !server.isAlive(),
                "pivot serve ready");
        assertThat(server.isAlive()).as("pivot serve runs: %s", output).isTrue();

        String[] udhcpc = {"busybox", "udhcpc", "-i", lan.clientIf(), "-f", "-q", "-n", "-t", "5", "-T", "1",
                "-s", lan.udhcpcScript().toString()};
        Lab.Result first = lab.exec(client, 60, udhcpc);
        String address = leased(first);

        Process flood = client.startPiped(List.of(Lab.javaBin(), "-cp", System.getProperty("java.class.path"),
                DhcpFloodMain.class.getName(), address, "2000", "4000"));
        // The flood is on and has filled what offers may hold: the server says so (once a minute).
        Lab.awaitLine(output, 30, l -> l.contains("refused (dhcp_offers_held)"), "offers refused under the flood");
        // Mid-flood: the machine renews (REQUEST for its address), then starts over (DISCOVER) and gets it back.
        Lab.Result renew = lab.exec(client, 60, withRequest(udhcpc, address));
        assertThat(leased(renew)).as("renewed during the flood").isEqualTo(address);
        assertThat(flood.isAlive()).as("the renewal happened during the flood").isTrue();
        String floodOut = new String(flood.getInputStream().readAllBytes());
        assertThat(flood.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Matcher m = Pattern.compile("SENT (\\d+) OFFERS (\\d+) ADDRESSES (\\d+)").matcher(floodOut);
        assertThat(m.find()).as("flood output: %s", floodOut).isTrue();
        System.out.println("DHCP pool pressure: " + m.group());
        assertThat(Integer.parseInt(m.group(1))).isEqualTo(2000);
        assertThat(Integer.parseInt(m.group(3))).as("addresses the flood's offers held (of 20)")
                .isBetween(1, 10);

        client.ip("addr", "flush", "dev", lan.clientIf());
        Lab.Result again = lab.exec(client, 60, udhcpc);
        assertThat(leased(again)).as("a machine that had a lease gets its address back").isEqualTo(address);

        // 2,000 made-up MACs and a plain DHCP client: sessions, but no machine records. A script fetch makes one.
        NetNamespace serverNs = lan.server();
        assertThat(lab.exec(serverNs, 30, "curl", "-sS", API).output()).as("machines after the flood")
                .doesNotContain("\"mac\"");
        assertThat(lab.exec(serverNs, 30, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                "http://" + Lab.SERVER_IP + "/boot.ipxe?mac=" + KNOWN).output()).isEqualTo("200");
        awaitMachines(serverNs, List.of(KNOWN));
        server.destroy();
    }

    @Test
    void knownOnlyGivesTheFloodNothingAndAMachineOfAGroupItsFirstAddress() throws Exception {
        Lab.requireUdhcpcLab();
        Require.command("curl");
        lab = new Lab();
        Lab.ClientServerLan lan = lab.clientServerLan("dpks", "dpkc", KNOWN);
        NetNamespace client = lan.client();
        Path image = TestImage.nixos(tmp, "known");
        // The group names the one machine Pivot knows; the default profile alone makes no machine known.
        Path profiles = java.nio.file.Files.writeString(tmp.resolve("profiles.yaml"), "profiles:\n  lab:\n"
                + "    image: " + image + "\ngroups:\n  rack:\n    profile: lab\n    machines: [" + KNOWN + "]\n"
                + "default: lab\n");
        String pivot = Require.pivotRoot().resolve("pivot").toString();
        List<String> output = new CopyOnWriteArrayList<>();
        Process server = lab.start(lan.server(), List.of(pivot, "serve", image.toString(), "--profiles", profiles.toString(),
                "--skip-check", "--interface", lan.serverIf(), "--dhcp", "full", "--range", "10.77.0.100-10.77.0.119",
                "--dhcp-known-only", "--state", tmp.resolve("state").toString()), output);
        Lab.awaitLine(output, 180, l -> l.startsWith("pivot: waiting for machines") || !server.isAlive(),
                "pivot serve ready");
        assertThat(server.isAlive()).as("pivot serve runs: %s", output).isTrue();

        // The flood's own address, outside the range: the client has no lease yet.
        String floodFrom = "10.77.0.250";
        client.ip("addr", "add", floodFrom + "/24", "dev", lan.clientIf());
        Process flood = client.startPiped(List.of(Lab.javaBin(), "-cp", System.getProperty("java.class.path"),
                DhcpFloodMain.class.getName(), floodFrom, "2000", "4000"));
        Lab.awaitLine(output, 30, l -> l.contains("refused (dhcp_unknown_machine)"), "unknown MACs refused");
        String[] udhcpc = {"busybox", "udhcpc", "-i", lan.clientIf(), "-f", "-q", "-n", "-t", "5", "-T", "1",
                "-s", lan.udhcpcScript().toString()};
        Lab.Result first = lab.exec(client, 60, udhcpc);
        String address = leased(first);
        assertThat(address).startsWith("10.77.0.1");
        assertThat(flood.isAlive()).as("the machine got its first address during the flood").isTrue();
        String floodOut = new String(flood.getInputStream().readAllBytes());
        assertThat(flood.waitFor(60, TimeUnit.SECONDS)).isTrue();
        Matcher m = Pattern.compile("SENT (\\d+) OFFERS (\\d+) ADDRESSES (\\d+)").matcher(floodOut);
        assertThat(m.find()).as("flood output: %s", floodOut).isTrue();
        System.out.println("DHCP known-only flood: " + m.group());
        assertThat(Integer.parseInt(m.group(1))).isEqualTo(2000);
        assertThat(Integer.parseInt(m.group(2))).as("offers to made-up MACs").isZero();

        // A real client Pivot does not know gets nothing.
        client.ip("addr", "flush", "dev", lan.clientIf());
        client.ip("link", "set", lan.clientIf(), "address", UNKNOWN);
        Lab.Result unknown = lab.exec(client, 60, "busybox", "udhcpc", "-i", lan.clientIf(), "-f", "-q", "-n", "-t",
                "3", "-T", "1", "-s", lan.udhcpcScript().toString());
        assertThat(unknown.output()).as("an unknown machine gets no lease").doesNotContain("LEASE bound");
        assertThat(unknown.exitCode()).isNotZero();
        server.destroy();
    }

    /** Waits (with a deadline) until the API lists exactly these machines. */
    private void awaitMachines(NetNamespace serverNs, List<String> macs) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String body = "";
        while (System.nanoTime() < deadline) {
            body = lab.exec(serverNs, 30, "curl", "-sS", API).output();
            List<String> listed = Pattern.compile("\"mac\"\\s*:\\s*\"([^\"]+)\"").matcher(body).results()
                    .map(r -> r.group(1)).distinct().toList();
            if (listed.equals(macs)) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the API did not list exactly " + macs + " within 30 s: " + body);
    }

    private static String[] withRequest(String[] udhcpc, String address) {
        String[] out = java.util.Arrays.copyOf(udhcpc, udhcpc.length + 2);
        out[udhcpc.length] = "-r";
        out[udhcpc.length + 1] = address;
        return out;
    }

    private static String leased(Lab.Result r) {
        Matcher m = Pattern.compile("LEASE bound ip=(\\S+)").matcher(r.output());
        assertThat(m.find()).as("udhcpc got a lease: %s", r.output()).isTrue();
        Map<String, String> fields = Lab.leaseFields(r.output().lines().filter(l -> l.startsWith("LEASE bound"))
                .findFirst().orElseThrow());
        return fields.get("ip");
    }
}
