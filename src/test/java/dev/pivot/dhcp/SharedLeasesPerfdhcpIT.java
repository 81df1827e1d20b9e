package dev.pivot.dhcp;

import dev.pivot.demo.NetNamespace;
import dev.pivot.store.PostgresCluster;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two `pivot serve --dhcp full --dhcp-leases store` (the ./pivot launcher) in two namespaces, bridged onto one LAN
 * with one PostgreSQL (Debian's, private, on that LAN), and Kea's perfdhcp broadcasting 2000 DORA/s for 10 s from a
 * third namespace: both servers hear every request and answer, the client takes the first answer, as on a real
 * network. First one server alone, then both: no address is ACKed to two clients (perfdhcp -u, and the leases table:
 * no machine holds two addresses, every lease in the range), both servers leased addresses, and the DORA/s of both
 * runs are printed. (The ratio is the benchmark's to measure; this PostgreSQL runs with fsync=off.)
 */
@Timeout(value = 8, unit = TimeUnit.MINUTES)
class SharedLeasesPerfdhcpIT {

    private static final int RATE = 2000;
    private static final int SECONDS = 10;
    private static final String RANGE = "10.78.1.1-10.78.255.250";

    @TempDir
    Path tmp;

    private Lab lab;
    private PostgresCluster pg;
    private final List<Process> servers = new CopyOnWriteArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : servers) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        if (pg != null) {
            pg.close();
        }
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void twoServersOnOneStoreNeverAckOneAddressTwice() throws Exception {
        Require.root("network namespaces");
        Require.command("ip");
        Require.command("perfdhcp", "kea-admin");
        Path bin = PostgresCluster.requireBinDir();
        lab = new Lab();
        NetNamespace lan = lab.namespace("shlan");
        NetNamespace[] ns = {lab.namespace("shs1"), lab.namespace("shs2")};
        String bridge = "pvbr" + lab.id;
        lan.addBridge(bridge);
        lan.addAddress(bridge, "10.78.0.254/16");
        String[] serverIf = {"pva" + lab.id, "pvb" + lab.id};
        for (int i = 0; i < 2; i++) {
            String port = "pvp" + i + lab.id;
            ns[i].addVethTo(serverIf[i], lan, port);
            lan.attach(port, bridge);
            ns[i].addAddress(serverIf[i], "10.78.0." + (i + 1) + "/16");
        }
        pg = PostgresCluster.start(bin, List.of("ip", "netns", "exec", lan.name()), "10.78.0.254");

        Path image = TestImage.nixos(tmp, "shared-leases");
        List<List<String>> outputs = List.of(new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
        // One server as it ships by default (leases in its journal, events in SQLite), for the comparison.
        List<String> journalOutput = new CopyOnWriteArrayList<>();
        Process journal = start(ns[0], serverIf[0], "journal", image, journalOutput, List.of());
        double shipped = perfdhcp(lan, bridge, "one server, journal");
        journal.destroy();
        assertThat(journal.waitFor(30, TimeUnit.SECONDS)).as("pivot serve ends on SIGTERM").isTrue();

        List<String> store = List.of("--database", pg.urlOnListenAddress(), "--dhcp-leases", "store");
        start(ns[0], serverIf[0], "s1", image, outputs.get(0), store);
        double alone = perfdhcp(lan, bridge, "one server, shared store");
        start(ns[1], serverIf[1], "s2", image, outputs.get(1), store);
        double both = perfdhcp(lan, bridge, "two servers, shared store");
        System.out.printf("shared leases: %d DORA/s offered for %d s: one server with its journal %.0f DORA/s,"
                + " one server on the store %.0f, two servers on the store %.0f (x%.2f of the journal, x%.2f of one"
                + " on the store); load average %s%n", RATE, SECONDS, shipped, alone, both, both / shipped,
                both / alone, loadAverage());

        for (int i = 0; i < 2; i++) {
            assertThat(servers.get(i + 1).isAlive()).as("server s%d runs: %s", i + 1, outputs.get(i)).isTrue();
        }
        assertThat(pg.psql("SELECT count(*) FROM (SELECT mac FROM dhcp_lease WHERE state = 'BOUND'"
                + " GROUP BY mac HAVING count(*) > 1) twice")).as("machines bound to two addresses").isEqualTo("0");
        assertThat(pg.psql("SELECT count(*) FROM dhcp_lease WHERE state = 'BOUND' AND (address NOT LIKE '10.78.%'"
                + " OR address IN ('10.78.0.1', '10.78.0.2', '10.78.0.254'))")).as("leases outside the range")
                .isEqualTo("0");
        // What the clients were told, from both servers' timelines (an ACK's line is printed once it was sent).
        java.util.Map<String, String> ackedTo = new java.util.HashMap<>();
        List<String> twice = new ArrayList<>();
        Pattern ack = Pattern.compile("([0-9a-f]{2}(?::[0-9a-f]{2}){5}) .* dhcp +(?:ack|renew) (\\d+\\.\\d+\\.\\d+\\.\\d+)");
        for (List<String> output : outputs) {
            for (String line : output) {
                Matcher m = ack.matcher(line);
                if (m.find()) {
                    String before = ackedTo.putIfAbsent(m.group(2), m.group(1));
                    if (before != null && !before.equals(m.group(1))) {
                        twice.add(m.group(2) + " to " + before + " and " + m.group(1));
                    }
                }
            }
        }
        System.out.println("shared leases: " + ackedTo.size() + " addresses ACKed in the servers' timelines");
        for (List<String> output : outputs) {
            output.stream().filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).limit(10)
                    .forEach(l -> System.out.println("shared leases: server said: " + l));
        }
        assertThat(ackedTo).as("ACKs in the timelines").isNotEmpty();
        assertThat(twice).as("addresses ACKed to two machines").isEmpty();
        // Boot history from both servers in one database: each numbers its sessions in its own slot.
        String sessions = pg.psql("SELECT server || '=' || count(*) FROM boot_session WHERE server IS NOT NULL"
                + " GROUP BY server ORDER BY server");
        System.out.println("shared leases: boot sessions per server: " + sessions.replace('\n', ' '));
        assertThat(sessions).as("sessions recorded by both servers").contains("s1=", "s2=");
        assertThat(pg.psql("SELECT count(*) FROM boot_session b JOIN server_heartbeat h ON h.name = b.server"
                + " WHERE b.id % 64 <> h.slot")).as("sessions numbered outside their server's slot").isEqualTo("0");
        // The API says which server recorded a boot (pivot sessions prints it as "via s1"). The machines list has
        // none here: perfdhcp's clients never get past DHCP, and only a machine that does gets a record.
        String machinesUrl = "http://10.78.0.1/api/v1/sessions?limit=5";
        Lab.Result api = lab.exec(lan, 30, "curl", "-sS", "--max-time", "10", machinesUrl);
        assertThat(api.output()).as("GET %s", machinesUrl).containsPattern("\"server\":\"s[12]\"");
        System.out.println("shared leases: PostgreSQL deadlocks detected: "
                + pg.psql("SELECT sum(deadlocks) FROM pg_stat_database"));
        String perServer = pg.psql("SELECT server || '=' || count(*) FROM dhcp_lease WHERE state = 'BOUND'"
                + " GROUP BY server ORDER BY server");
        System.out.println("shared leases: bound leases per server: " + perServer.replace('\n', ' '));
        assertThat(perServer).as("both servers leased addresses").contains("s1=", "s2=");
    }

    private Process start(NetNamespace ns, String iface, String name, Path image, List<String> output,
                          List<String> leases) throws Exception {
        String pivot = Require.pivotRoot().resolve("pivot").toString();
        List<String> cmd = new ArrayList<>(List.of(pivot, "serve", image.toString(), "--skip-check", "--interface",
                iface, "--dhcp", "full", "--range", RANGE, "--state", tmp.resolve("state-" + name).toString(),
                "--server-name", name, "--no-ipv6-ra",
                // perfdhcp is one relay for thousands of new clients: the per-source offer rate would measure itself
                "--limit", "dhcp-offers-per-source=1000000", "--limit", "dhcp-offers-per-mac=1000000"));
        cmd.addAll(leases);
        Process server = lab.start(ns, cmd, output);
        servers.add(server);
        Lab.awaitLine(output, 180, l -> l.startsWith("pivot: waiting for machines") || !server.isAlive(),
                "pivot serve " + name + " ready");
        assertThat(server.isAlive()).as("pivot serve %s runs: %s", name, output).isTrue();
        return server;
    }

    /** perfdhcp broadcasting on the LAN (no server named): DORA/s, after asserting it saw no duplicate address. */
    private double perfdhcp(NetNamespace lan, String bridge, String what) throws Exception {
        List<String> out = new CopyOnWriteArrayList<>();
        Process perf = lab.start(lan, List.of("perfdhcp", "-4", "-r", String.valueOf(RATE), "-p",
                String.valueOf(SECONDS), "-W", "1000000", "-R", "1000000", "-u", "-l", bridge), out);
        if (!perf.waitFor(SECONDS + 60, TimeUnit.SECONDS)) {
            perf.destroyForcibly();
            Assertions.fail("perfdhcp did not end within " + (SECONDS + 60) + " s: " + out);
        }
        // The output reader may still be on the last lines when the process has ended.
        Lab.awaitLine(out, 10, l -> l.startsWith("Rate:"), "perfdhcp's Rate:");
        String report = String.join("\n", out);
        System.out.println("perfdhcp, " + what + ":\n" + report);
        Matcher rate = Pattern.compile("(?m)^Rate: ([0-9.]+)").matcher(report);
        assertThat(rate.find()).as("perfdhcp's report: %s", report).isTrue();
        // -u: perfdhcp checks that no address it was ACKed had been ACKed to another of its clients. (Its OFFER
        // section counts the second server's offer of the same address to the same client as "non unique".)
        int acks = report.indexOf("Statistics for: REQUEST-ACK");
        assertThat(acks).as("perfdhcp's REQUEST-ACK statistics: %s", report).isPositive();
        Matcher notUnique = Pattern.compile("(?m)^non unique addresses: (\\d+)").matcher(report.substring(acks));
        assertThat(notUnique.find()).as("perfdhcp -u's count: %s", report).isTrue();
        assertThat(notUnique.group(1)).as("addresses ACKed to two clients (perfdhcp -u)").isEqualTo("0");
        return Double.parseDouble(rate.group(1));
    }

    private static String loadAverage() {
        try {
            return java.nio.file.Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (java.io.IOException e) {
            return "?";
        }
    }
}
