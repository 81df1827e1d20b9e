package dev.pivot.server;

import dev.pivot.testsupport.Require;
import dev.pivot.dhcp.Lab;
import dev.pivot.demo.NetNamespace;
import dev.pivot.store.PostgresCluster;
import dev.pivot.testsupport.TestImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `pivot serve --dhcp full` as shipped (the ./pivot launcher) while its event store fails under it: DHCP (udhcpc),
 * TFTP and HTTP (curl) keep answering a real client, stage-1 reports are refused rather than falsely acknowledged,
 * the loss metric rises, and recording resumes by itself once the store is back — a full SQLite disk (a small
 * tmpfs holding only the database, filled and then freed) and a PostgreSQL server stopped and started again.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class StoreOutageIT {

    private static final String MAC = "52:54:00:7a:00:01";
    private static final Pattern LOST = Pattern.compile("(?m)^pivot_events_lost (\\S+)$");
    private static final Pattern FAILING = Pattern.compile("(?m)^pivot_events_store_failing (\\S+)$");

    @TempDir
    Path tmp;

    private Lab lab;
    private NetNamespace serverNs;
    private NetNamespace clientNs;
    private String clientIf;
    private Path udhcpc;
    private Process server;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private String base;

    @BeforeEach
    void lan() throws Exception {
        Require.root("network namespaces");
        lab = new Lab();
        Lab.ClientServerLan lan = lab.clientServerLan("stos", "stoc", MAC);
        serverNs = lan.server();
        clientNs = lan.client();
        clientIf = lan.clientIf();
        udhcpc = lan.udhcpcScript();
        base = "http://" + Lab.SERVER_IP;
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (lab != null) {
            lab.close(); // ends the server (and postgres) by PID with their namespace
        }
    }

    private void startPivot(String serverIf, String prelude, String database) throws Exception {
        startPivot(serverIf, prelude, database, "");
    }

    private void startPivot(String serverIf, String prelude, String database, String more) throws Exception {
        Path image = TestImage.nixos(tmp, "outage");
        String pivot = Path.of(System.getProperty("pivot.root", ".")).resolve("pivot").toAbsolutePath().toString();
        String command = prelude + "exec " + pivot + " serve " + image + " --skip-check --interface " + serverIf
                + " --dhcp full --range 10.77.0.100-10.77.0.150 --state " + tmp.resolve("state")
                + " --database " + database + more;
        server = lab.start(serverNs, List.of("sh", "-c", command), output);
        Lab.awaitLine(output, 180, l -> l.startsWith("pivot: waiting for machines") || !server.isAlive(),
                "pivot serve ready");
        assertThat(server.isAlive()).as("pivot serve runs: %s", output).isTrue();
    }

    /** Every protocol answers the client; returns the HTTP status of one stage-1 report. */
    private int everythingAnswersAndReport(String step) throws Exception {
        Lab.Result lease = lab.exec(clientNs, 60, "busybox", "udhcpc", "-i", clientIf, "-f", "-q", "-n", "-t", "5",
                "-T", "1", "-s", udhcpc.toString());
        assertThat(lease.output()).as("udhcpc got a lease").contains("LEASE bound ip=10.77.0.1");
        assertThat(http("/boot.ipxe?mac=" + MAC)).as("script").isEqualTo("200");
        String script = curl("-s", base + "/boot.ipxe?mac=" + MAC).output();
        Matcher kernel = Pattern.compile("kernel (\\S+/artifacts/\\S+)").matcher(script);
        assertThat(kernel.find()).as("script names the kernel: %s", script).isTrue();
        Matcher secret = Pattern.compile("pivot\\.token=([0-9a-f]+)").matcher(script);
        assertThat(secret.find()).as("script carries the boot's secret: %s", script).isTrue();
        bootSecret = secret.group(1);
        assertThat(http(kernel.group(1).replace("${base}", base).replaceFirst("^http://[^/]+", "")))
                .as("kernel").isEqualTo("200");
        Lab.Result tftp = curl("-s", "-o", "/dev/null", "-w", "%{size_download}",
                "tftp://" + Lab.SERVER_IP + "/undionly.kpxe");
        assertThat(Long.parseLong(tftp.output().strip())).as("TFTP undionly.kpxe bytes").isPositive();
        return Integer.parseInt(http("/report?mac=" + MAC + "&token=" + bootSecret + "&step=" + step + "&status=ok"));
    }

    /** The secret of the machine's latest script, which its reports carry. */
    private String bootSecret = "";

    private Lab.Result curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "--max-time", "20"));
        cmd.addAll(List.of(args));
        return lab.exec(clientNs, 40, cmd.toArray(String[]::new));
    }

    private String http(String path) throws Exception {
        return curl("-s", "-o", "/dev/null", "-w", "%{http_code}", base + path).output().strip();
    }

    private double metric(Pattern p) throws Exception {
        Matcher m = p.matcher(curl("-s", base + "/metrics").output());
        assertThat(m.find()).as("metric %s", p).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private String sessionsJson() throws Exception {
        return curl("-s", base + "/api/v1/sessions?mac=" + MAC + "&limit=50").output();
    }

    private void awaitMetric(Pattern p, java.util.function.DoublePredicate wanted, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!wanted.test(metric(p))) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    /** Reports until one is acknowledged again (stage 1 retries the same way), within a minute. */
    private void awaitAcknowledgedReport(String step) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!http("/report?mac=" + MAC + "&token=" + bootSecret + "&step=" + step + "&status=ok").equals("200")) {
            assertThat(System.nanoTime()).as("a report acknowledged after the store returned").isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    @Test
    void aFullSqliteDiskStopsNoAnswerAndRecordingResumesWhenSpaceIsFreed() throws Exception {
        // `ip netns exec` gives the server a mount namespace of its own: the tmpfs is seen by it alone.
        Path db = Files.createDirectories(tmp.resolve("db"));
        startPivot(lab.clientServerLanServerIf(), "mount -t tmpfs -o size=8m pivot-db " + db + " && ",
                "jdbc:sqlite:" + db.resolve("pivot.db"));
        assertThat(everythingAnswersAndReport("stage1")).isEqualTo(200);
        assertThat(metric(LOST)).isZero();

        String inside = "nsenter -t " + server.pid() + " -m ";
        lab.exec(serverNs, 60, "sh", "-c", inside + "dd if=/dev/zero of=" + db.resolve("fill") + " bs=64k"
                + " 2>/dev/null; " + inside + "sync");
        assertThat(everythingAnswersAndReport("network")).as("a report the full disk cannot keep").isEqualTo(503);
        awaitMetric(LOST, v -> v > 0, "events lost while the disk is full");
        assertThat(metric(FAILING)).isEqualTo(1);

        lab.exec(serverNs, 30, "sh", "-c", inside + "rm " + db.resolve("fill"));
        recordsAgain();
    }

    /** After an outage: a report is kept again, answers go on, and the session holds the steps before and after. */
    private void recordsAgain() throws Exception {
        awaitAcknowledgedReport("root_fetched");
        assertThat(everythingAnswersAndReport("handover")).isEqualTo(200);
        awaitMetric(FAILING, v -> v == 0, "the store no longer failing");
        assertThat(sessionsJson()).contains("\"step\":\"stage1\"").contains("\"step\":\"root_fetched\"")
                .contains("\"step\":\"handover\"");
    }

    @Test
    void aStoppedPostgresStopsNoAnswerAndRecordingResumesWhenItIsBack() throws Exception {
        Path bin = PostgresCluster.requireBinDir();
        try (PostgresCluster pg = PostgresCluster.start(bin, List.of("ip", "netns", "exec", serverNs.name()))) {
            startPivot(lab.clientServerLanServerIf(), "", pg.url() + "?user=pivot");
            assertThat(everythingAnswersAndReport("stage1")).isEqualTo(200);

            pg.stop();
            assertThat(everythingAnswersAndReport("network")).as("a report no database can keep").isEqualTo(503);
            awaitMetric(LOST, v -> v > 0, "events lost while PostgreSQL is down");

            pg.restart();
            recordsAgain();
        }
    }

    /**
     * A PostgreSQL that hangs (every process stopped: its connections stay open and nothing answers) delays no DHCP
     * answer. With {@code --dhcp-known-only} and a profile that chooses a loader, an answer depends on the store (the
     * machine's assignment, its record); the read is given a short budget, then the MAC group decides: the machine
     * is known and gets its profile's loader. Once the database answers again, everything else does too.
     */
    @Test
    void aHangingPostgresDelaysNoDhcpAnswer() throws Exception {
        Path bin = PostgresCluster.requireBinDir();
        try (PostgresCluster pg = PostgresCluster.start(bin, List.of("ip", "netns", "exec", serverNs.name()))) {
            Path image = TestImage.nixos(tmp, "outage");
            Path profiles = tmp.resolve("profiles.yaml");
            Files.writeString(profiles, """
                    profiles:
                      demo:
                        image: %s
                      pinned:
                        image: %s
                        loader: ipxe
                    groups:
                      lab:
                        profile: pinned
                        machines: ["%s"]
                    default: demo
                    """.formatted(image, image, MAC));
            startPivot(lab.clientServerLanServerIf(), "", pg.url() + "?user=pivot",
                    " --dhcp-known-only --profiles " + profiles);
            pg.freeze();
            try {
                long start = System.nanoTime();
                Lab.Result lease = lab.exec(clientNs, 60, "busybox", "udhcpc", "-i", clientIf, "-f", "-q", "-n",
                        "-t", "5", "-T", "1", "-s", udhcpc.toString(),
                        "-V", "PXEClient:Arch:00007:UNDI:003016", "-x", "0x5d:0007");
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                String bound = lease.output().lines().filter(l -> l.startsWith("LEASE bound ")).findFirst()
                        .orElseThrow(() -> new AssertionError("no lease while PostgreSQL hangs: " + lease.output()
                                + "\nserver: " + output));
                assertThat(bound).as("known by its MAC group, and its profile's loader").contains("ip=10.77.0.1")
                        .endsWith("boot_file=ipxe.efi");
                assertThat(millis).as("answered at once, not after udhcpc gave up on the server").isLessThan(3000);
                System.out.printf("DHCP with PostgreSQL hanging: leased in %d ms (%s)%n", millis, bound);
            } finally {
                pg.thaw();
            }
            assertThat(everythingAnswersAndReport("stage1")).isEqualTo(200);
        }
    }

    /**
     * Leases in the shared store ({@code --dhcp-leases store}) while PostgreSQL is stopped: a machine holding a lease
     * (busybox udhcpc, told to renew with SIGUSR1) is still ACKed, for the time left on the lease the store holds;
     * the server says so in its log and {@code /healthz}; once PostgreSQL is back the renewal made meanwhile is
     * written and renewals go on as before.
     */
    @Test
    void sharedLeasesAreRenewedWhilePostgresIsDownAndWrittenWhenItIsBack() throws Exception {
        Path bin = PostgresCluster.requireBinDir();
        try (PostgresCluster pg = PostgresCluster.start(bin, List.of("ip", "netns", "exec", serverNs.name()))) {
            startPivot(lab.clientServerLanServerIf(), "", pg.url() + "?user=pivot",
                    " --dhcp-leases store --server-name outage");
            List<String> client = new CopyOnWriteArrayList<>();
            Process udhcpcd = lab.start(clientNs, List.of("busybox", "udhcpc", "-i", clientIf, "-f", "-t", "5",
                    "-T", "1", "-s", udhcpc.toString()), client);
            Lab.awaitLine(client, 60, l -> l.startsWith("LEASE bound ip=10.77.0.1"), "udhcpc bound");
            String address = client.stream().filter(l -> l.startsWith("LEASE bound ")).findFirst().orElseThrow()
                    .split(" ")[2].substring("ip=".length());
            String expiresSql = "SELECT expires_at FROM dhcp_lease WHERE mac = '" + MAC + "' AND state = 'BOUND'";
            long written = Long.parseLong(pg.psql(expiresSql).strip());

            pg.stop();
            awaitHealth(h -> h.contains("\"store\":\"down\""), "/healthz says the store is down");
            renew(udhcpcd, client, 1, "a renewal while PostgreSQL is down");
            assertThat(client.stream().filter(l -> l.startsWith("LEASE renew ")).toList())
                    .as("the same address").allMatch(l -> l.startsWith("LEASE renew ip=" + address + " "));
            Lab.awaitLine(output, 30, l -> l.contains("lease store cannot be written")
                    && l.contains("1 renewals answered from the leases the store holds"), "the log says so");

            pg.restart();
            Lab.awaitLine(output, 60, l -> l.contains("the lease store is reachable again"), "the log says it is back");
            awaitHealth(h -> h.contains("\"status\":\"up\""), "/healthz up again");
            // The renewal answered while the store was down is written now (a later expiry than the first ACK's).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (Long.parseLong(pg.psql(expiresSql).strip()) <= written) {
                assertThat(System.nanoTime()).as("the renewal written once PostgreSQL is back").isLessThan(deadline);
                Thread.sleep(300);
            }
            renew(udhcpcd, client, 2, "a renewal once PostgreSQL is back");
            udhcpcd.destroy();
        }
    }

    /** SIGUSR1 makes udhcpc renew its lease; waits for its {@code count}-th renewal. */
    private void renew(Process udhcpcd, List<String> client, int count, String what) throws Exception {
        Process kill = new ProcessBuilder("kill", "-USR1", Long.toString(udhcpcd.pid())).redirectErrorStream(true)
                .start();
        assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -USR1 udhcpc").isTrue();
        Lab.awaitLine(client, 30, l -> client.stream().filter(c -> c.startsWith("LEASE renew ")).count() >= count,
                what + " (udhcpc said: " + client + ")");
    }

    private void awaitHealth(java.util.function.Predicate<String> wanted, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String last = "";
        while (System.nanoTime() < deadline) {
            last = curl("-s", base + "/healthz").output();
            if (wanted.test(last)) {
                return;
            }
            Thread.sleep(300);
        }
        throw new AssertionError(what + ": not within 30 s; last /healthz: " + last);
    }
}
