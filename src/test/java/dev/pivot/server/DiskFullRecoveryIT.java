package dev.pivot.server;

import dev.pivot.demo.NetNamespace;
import dev.pivot.dhcp.Lab;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `pivot serve` as shipped (the ./pivot launcher) with its whole state directory on a 24 MiB tmpfs, mounted in the
 * server's own mount namespace (`ip netns exec` gives it one; the mount ends with the server). The free-space
 * warning is up (log line and gauge) before anything fills; ballast leaves about a MiB, and signed stage-1 reports
 * from a hundred machines fill it until the store refuses them (503). Meanwhile `/boot.ipxe` keeps answering.
 * Once the ballast is removed, reports are acknowledged again by the same process: no restart.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class DiskFullRecoveryIT {

    private static final String MAC = "52:54:00:7d:00:01";
    private static final int MACHINES = 100;
    private static final int REPORTS_PER_MACHINE = 50; // under the 60 a minute each machine may send
    private static final Pattern FREE = Pattern.compile("(?m)^pivot_state_free_bytes (\\S+)$");
    private static final Pattern FAILING = Pattern.compile("(?m)^pivot_events_store_failing (\\S+)$");
    private static final Pattern TOKEN = Pattern.compile("pivot\\.token=([0-9a-f]+)");

    @TempDir
    Path tmp;

    private Lab lab;
    private NetNamespace clientNs;
    private final String base = "http://" + Lab.SERVER_IP;

    @AfterEach
    void cleanUp() throws Exception {
        if (lab != null) {
            lab.close(); // ends the server by PID with its namespace; its tmpfs goes with its mount namespace
        }
    }

    @Test
    void aStateDiskFilledByReportsServesScriptsAndRecordsAgainOnceSpaceIsFreed() throws Exception {
        Require.root("network namespaces and a tmpfs");
        Require.command("curl");
        Require.command("nsenter");
        lab = new Lab();
        Lab.ClientServerLan lan = lab.clientServerLan("dfrs", "dfrc", MAC);
        clientNs = lan.client();
        Path image = TestImage.nixos(tmp, "diskfull");
        Path state = Files.createDirectories(tmp.resolve("state"));
        String pivot = Require.pivotRoot().resolve("pivot").toString();
        List<String> output = new CopyOnWriteArrayList<>();
        Process server = lab.start(lan.server(), List.of("sh", "-c", "mount -t tmpfs -o size=24m,mode=0700 pivot-state "
                + state + " && exec " + pivot + " serve " + image + " --skip-check --interface " + lan.serverIf()
                + " --dhcp full --range 10.77.0.100-10.77.0.150 --state " + state), output);
        Lab.awaitLine(output, 180, l -> l.startsWith("pivot: waiting for machines") || !server.isAlive(),
                "pivot serve ready");
        assertThat(server.isAlive()).as("pivot serve runs: %s", output).isTrue();
        Lab.Result lease = lab.exec(clientNs, 60, "busybox", "udhcpc", "-i", lan.clientIf(), "-f", "-q", "-n", "-t",
                "5", "-T", "1", "-s", lan.udhcpcScript().toString());
        assertThat(lease.output()).as("udhcpc got a lease").contains("LEASE bound ip=10.77.0.1");

        // Warned before anything filled: 24 MiB is under the threshold from the start.
        Lab.awaitLine(output, 30, l -> l.contains("state directory " + state + ": only"), "the free-space warning");
        double freeAtStart = metric(FREE);
        assertThat(freeAtStart).as("pivot_state_free_bytes").isPositive().isLessThan(24 << 20);

        // Every machine's script carries its secret; its reports need it.
        Map<String, String> tokens = new LinkedHashMap<>();
        for (int i = 0; i < MACHINES; i++) {
            tokens.put(String.format("52:54:00:7d:01:%02x", i), "");
        }
        List<String> scripts = curlEach(new ArrayList<>(tokens.keySet().stream()
                .map(m -> base + "/boot.ipxe?mac=" + m).toList()), true);
        int k = 0;
        for (String mac : tokens.keySet()) {
            Matcher t = TOKEN.matcher(scripts.get(k++));
            assertThat(t.find()).as("script of %s carries a secret", mac).isTrue();
            tokens.put(mac, t.group(1));
        }

        // Ballast: fill the tmpfs from inside the server's mount namespace, then give back about 1 MiB.
        String inside = "nsenter -t " + server.pid() + " -m ";
        Path ballast = state.resolve("ballast");
        lab.exec(lan.server(), 60, "sh", "-c", inside + "dd if=/dev/zero of=" + ballast + " bs=64k 2>/dev/null; "
                + inside + "truncate -s -1M " + ballast + " && " + inside + "sync");

        String detail = "x".repeat(280);
        List<String> reports = new ArrayList<>();
        for (int r = 0; r < REPORTS_PER_MACHINE; r++) {
            for (Map.Entry<String, String> m : tokens.entrySet()) {
                reports.add(base + "/report?mac=" + m.getKey() + "&token=" + m.getValue() + "&step="
                        + (r % 2 == 0 ? "network" : "stage1") + "&status=ok&detail=" + detail + r);
            }
        }
        // In rounds, until the store refuses: a refused report waits seconds for a commit that cannot come.
        List<String> codes = new ArrayList<>();
        long started = System.nanoTime();
        for (int from = 0; from < reports.size() && !codes.contains("503"); from += 25) {
            codes.addAll(curlEach(reports.subList(from, Math.min(from + 25, reports.size())), false));
        }
        System.out.printf("disk full: the report flood took %.1f s%n", (System.nanoTime() - started) / 1e9);
        long ok = codes.stream().filter("200"::equals).count();
        long refused = codes.stream().filter("503"::equals).count();
        System.out.printf("disk full: %d reports sent, %d acknowledged, %d refused (503), others %s%n",
                codes.size(), ok, refused, codes.stream().filter(c -> !c.equals("200") && !c.equals("503"))
                        .distinct().toList());
        output.stream().skip(Math.max(0, output.size() - 15)).forEach(l -> System.out.println("server: " + l.substring(0, Math.min(l.length(), 200))));
        assertThat(ok).as("reports kept before the disk filled").isPositive();
        assertThat(refused).as("reports refused once the disk is full").isPositive();
        assertThat(metric(FAILING)).as("pivot_events_store_failing").isEqualTo(1);

        // Full disk: machines still get their scripts.
        String script = curl("-s", "-w", "\n%{http_code}", base + "/boot.ipxe?mac=" + MAC);
        assertThat(script).as("/boot.ipxe on a full disk").endsWith("\n200").contains("kernel ");

        // Space freed: the same process records again.
        lab.exec(lan.server(), 30, "sh", "-c", inside + "rm " + ballast);
        // A machine that has not reported yet: its minute's budget is whole.
        String mac = MAC;
        Matcher secret = TOKEN.matcher(script);
        assertThat(secret.find()).as("the script carries a secret: %s", script).isTrue();
        String report = base + "/report?mac=" + mac + "&token=" + secret.group(1) + "&step=handover&status=ok";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!curl("-s", "-o", "/dev/null", "-w", "%{http_code}", report).equals("200")) {
            assertThat(System.nanoTime()).as("a report acknowledged after space was freed").isLessThan(deadline);
            Thread.sleep(1000); // at most one report a second: well inside the machine's 60 a minute
        }
        assertThat(server.isAlive()).as("the same pivot serve, never restarted").isTrue();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (metric(FAILING) != 0) {
            assertThat(System.nanoTime()).as("the store no longer failing").isLessThan(deadline);
            Thread.sleep(500);
        }
        assertThat(curl("-s", base + "/api/v1/sessions?mac=" + mac + "&limit=5")).contains("\"step\":\"handover\"");
        assertThat(output).as("no OutOfMemoryError").noneMatch(l -> l.contains("OutOfMemoryError"));
    }

    private String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "--max-time", "20"));
        cmd.addAll(List.of(args));
        return lab.exec(clientNs, 40, cmd.toArray(String[]::new)).output().strip();
    }

    /**
     * One curl for many URLs (one connection, in order): each body when {@code bodies}, else each status code.
     */
    private List<String> curlEach(List<String> urls, boolean bodies) throws Exception {
        String end = "@@pivot-end@@";
        StringBuilder config = new StringBuilder();
        for (String url : urls) {
            config.append("url = \"").append(url).append("\"\n");
            if (!bodies) {
                config.append("output = \"/dev/null\"\n");
            }
        }
        Path file = Files.writeString(tmp.resolve("curl-" + System.nanoTime() + ".cfg"), config);
        String out = lab.exec(clientNs, 120, "curl", "-s", "--max-time", "10", "-w", "\n%{http_code}" + end + "\n",
                "-K", file.toString()).output();
        List<String> parts = new ArrayList<>();
        for (String part : out.split(Pattern.quote(end) + "\n", -1)) {
            if (!part.isEmpty()) {
                int nl = part.lastIndexOf('\n');
                parts.add(bodies ? part.substring(0, Math.max(nl, 0)) : part.substring(nl + 1).strip());
            }
        }
        assertThat(parts).as("one answer per URL").hasSize(urls.size());
        return parts;
    }

    private double metric(Pattern p) throws Exception {
        Matcher m = p.matcher(curl("-s", base + "/metrics"));
        assertThat(m.find()).as("metric %s", p).isTrue();
        return Double.parseDouble(m.group(1));
    }
}
