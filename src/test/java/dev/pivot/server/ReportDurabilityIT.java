package dev.pivot.server;

import dev.pivot.boot.BootEvent;
import dev.pivot.history.BootSession;
import dev.pivot.store.JdbcStore;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `./pivot serve` as shipped takes stage-1 reports from many clients at once; after 300 were acknowledged (200) it
 * is killed with SIGKILL mid-stream, and every acknowledged report is in its database: a report's 200 waits for the
 * batch commit that makes it durable.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ReportDurabilityIT {

    private static final int ACKS_BEFORE_KILL = 300;

    @TempDir
    Path tmp;

    @Test
    void everyAcknowledgedReportSurvivesSigkillOfPivotServe() throws Exception {
        Path image = TestImage.nixos(tmp, "durable");
        Path state = tmp.resolve("state");
        int http;
        int tftp;
        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
            http = a.getLocalPort();
            tftp = b.getLocalPort();
        }
        Path pivot = Require.pivotRoot().resolve("pivot");
        Process server = new ProcessBuilder(pivot.toString(), "serve", image.toString(), "--listen", "127.0.0.1",
                "--dhcp", "off", "--http-port", String.valueOf(http), "--tftp-port", String.valueOf(tftp),
                "--state", state.toString(), "--skip-check").redirectErrorStream(true).start();
        List<String> output = new ArrayList<>();
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
        try {
            BufferedReader lines = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8));
            for (String line; (line = lines.readLine()) != null; ) {
                output.add(line);
                if (line.startsWith("pivot: waiting for machines")) {
                    break;
                }
            }
            assertThat(server.isAlive()).as("pivot serve started: %s", output).isTrue();
            Thread.ofVirtual().start(() -> lines.lines().forEach(l -> { })); // keep its stdout drained

            HttpClient http1 = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            AtomicInteger next = new AtomicInteger();
            for (int c = 0; c < 64; c++) {
                clients.submit(() -> {
                    while (server.isAlive()) {
                        int n = next.incrementAndGet();
                        String detail = "report-" + n;
                        String mac = String.format("52:54:00:7b:%02x:%02x", n / 256 % 256, n % 256);
                        try {
                            // Each boot's reports carry the secret its script gave it.
                            String script = http1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http
                                    + "/boot.ipxe?mac=" + mac)).timeout(Duration.ofSeconds(10)).build(),
                                    HttpResponse.BodyHandlers.ofString()).body();
                            java.util.regex.Matcher secret = java.util.regex.Pattern
                                    .compile("pivot\\.token=([0-9a-f]+)").matcher(script);
                            if (!secret.find()) {
                                continue;
                            }
                            HttpResponse<String> r = http1.send(HttpRequest.newBuilder(URI.create(
                                    "http://127.0.0.1:" + http + "/report?mac=" + mac + "&token=" + secret.group(1)
                                            + "&step=stage1&status=ok"
                                            + "&detail=" + detail)).timeout(Duration.ofSeconds(10)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            if (r.statusCode() == 200) {
                                acknowledged.add(detail);
                                if (acknowledged.size() >= ACKS_BEFORE_KILL) {
                                    // At once, with other reports in flight: an acknowledgement that ran ahead of
                                    // its commit would be caught here.
                                    server.destroyForcibly();
                                }
                            }
                        } catch (Exception killed) {
                            return null;
                        }
                    }
                    return null;
                });
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (acknowledged.size() < ACKS_BEFORE_KILL && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            // SIGKILL: no shutdown hook, no close, no final commit.
            server.destroyForcibly();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            server.destroyForcibly();
            clients.shutdownNow();
        }
        Set<String> acked = new HashSet<>(acknowledged);
        assertThat(acked.size()).as("reports acknowledged before the kill").isGreaterThanOrEqualTo(ACKS_BEFORE_KILL);
        try (JdbcStore store = JdbcStore.openSqlite(state.resolve("pivot.db"))) {
            Set<String> recorded = new HashSet<>();
            for (BootSession s : store.sessions(Optional.empty(), Integer.MAX_VALUE)) {
                s.events().stream().map(BootEvent::detail).forEach(recorded::add);
            }
            System.out.printf("report durability: %d reports acknowledged before SIGKILL, %d events recorded%n",
                    acked.size(), recorded.size());
            assertThat(recorded).as("every acknowledged report is in pivot.db").containsAll(acked);
        }
    }
}
