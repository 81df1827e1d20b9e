package dev.pivot.api;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a host on the LAN can no longer do to `pivot serve` (through {@link ApiServer}, i.e. PivotServer as `pivot
 * serve` starts it): forge a machine's reports (and with a stage2 consume its --once assignment), make the API read
 * a body of any size, or hold connections without bound. Requests go through the real curl or plain sockets.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AbuseIT {

    static final MacAddress MAC = MacAddress.parse("52:54:00:ab:00:01");
    static final MacAddress OTHER = MacAddress.parse("52:54:00:ab:00:02");

    @TempDir
    Path dir;

    @Test
    void forgedReportsAreRefusedAndNeverConsumeAOnceAssignment() throws Exception {
        try (ApiServer server = new ApiServer(dir, List.of("rescue"))) {
            String rescue = server.kernelSha("rescue");
            String normal = server.kernelSha("default");
            CurlRun assign = CurlRun.run(server.base + "/api/v1/machines/" + MAC + "/assignment", "-X", "PUT",
                    "-H", "Authorization: Bearer " + server.token, "--data-binary",
                    "{\"profile\": \"rescue\", \"once\": true}");
            assertThat(assign.status()).as(assign.body()).isEqualTo(200);
            String script = CurlRun.run(server.base + "/boot.ipxe?mac=" + MAC).body();
            assertThat(script).contains(rescue);
            String secret = secretIn(script);
            String otherSecret = secretIn(CurlRun.run(server.base + "/boot.ipxe?mac=" + OTHER).body());
            String stage2 = server.base + "/report?step=stage2&status=ok&mac=" + MAC;

            assertThat(CurlRun.run(stage2).status()).as("no secret").isEqualTo(403);
            String wrong = secret.substring(0, 20) + (secret.charAt(20) == 'a' ? 'b' : 'a') + secret.substring(21);
            assertThat(CurlRun.run(stage2 + "&token=" + wrong).status()).as("a wrong secret").isEqualTo(403);
            assertThat(CurlRun.run(stage2 + "&token=" + otherSecret).status()).as("another machine's secret")
                    .isEqualTo(403);
            assertThat(CurlRun.run(stage2 + "&token=" + "0".repeat(48)).status()).as("a made-up secret")
                    .isEqualTo(403);
            // From an address DHCP gave another machine: not this machine's source either.
            server.server.addresses().learn(InetAddress.getByName("127.0.0.1"), OTHER);
            assertThat(CurlRun.run(stage2).status()).as("from another machine's address").isEqualTo(403);
            CurlRun failed = CurlRun.run(server.base + "/report?step=network&status=failed&detail=forged&mac=" + MAC);
            assertThat(failed.status()).as("marking its boot failed").isEqualTo(403);

            assertThat(server.events.flush(java.time.Duration.ofSeconds(10))).isTrue();
            assertThat(CurlRun.run(server.base + "/boot.ipxe?mac=" + MAC).body())
                    .as("the --once assignment survives every forged stage2").contains(rescue);
            assertThat(server.store.sessions(java.util.Optional.of(MAC), 10).stream()
                    .flatMap(s -> s.events().stream()).filter(e -> e.step() == Step.STAGE2 || e.failed()).toList())
                    .as("no forged event recorded").isEmpty();
            String metrics = CurlRun.run(server.base + "/metrics").body();
            assertThat(metrics).containsPattern("pivot_refused_total\\{kind=\"report_unauthenticated\"[^}]*} 6\\.0");

            // The machine's own stage 2, with the secret its (first) script carried, ends the assignment.
            assertThat(CurlRun.run(stage2 + "&token=" + secret).status()).isEqualTo(200);
            assertThat(server.events.flush(java.time.Duration.ofSeconds(10))).isTrue();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!CurlRun.run(server.base + "/boot.ipxe?mac=" + MAC).body().contains(normal)) {
                assertThat(System.nanoTime()).as("the once assignment ended at the real stage 2")
                        .isLessThan(deadline);
                Thread.sleep(50);
            }
        }
    }

    @Test
    void aMachinesReportsAreRateLimited() throws Exception {
        try (ApiServer server = new ApiServer(dir)) {
            String secret = secretIn(CurlRun.run(server.base + "/boot.ipxe?mac=" + MAC).body());
            String report = server.base + "/report?step=network&status=ok&mac=" + MAC + "&token=" + secret;
            // Stage 1 sends a handful per boot; one machine sending more than 60 a minute is flooding the log.
            List<String> urls = new ArrayList<>();
            for (int i = 0; i < 61; i++) {
                urls.add(report + "&detail=" + i);
            }
            List<String> options = new ArrayList<>(List.of("-o", "/dev/null", "-w", "%{http_code}\n"));
            Process curl = new ProcessBuilder(concat(List.of("curl", "-sS", "--max-time", "60"), urls, options))
                    .redirectErrorStream(true).start();
            String codes = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(curl.waitFor(90, TimeUnit.SECONDS)).isTrue();
            List<String> lines = codes.lines().toList();
            assertThat(lines).hasSize(61);
            assertThat(lines.subList(0, 60)).containsOnly("200");
            assertThat(lines.getLast()).isEqualTo("429");
        }
    }

    private static List<String> concat(List<String> head, List<String> urls, List<String> perUrl) {
        List<String> out = new ArrayList<>(head);
        for (String u : urls) {
            out.addAll(perUrl);
            out.add(u);
        }
        return out;
    }

    @Test
    void apiBodiesOverTheLimitAreRefusedBeforeTheyAreRead() throws Exception {
        try (ApiServer server = new ApiServer(dir)) {
            server.emit(BootEvent.ok(MAC, Step.SCRIPT, "boot.ipxe", 100));
            String label = server.base + "/api/v1/machines/" + MAC + "/labels/rack";
            String auth = "Authorization: Bearer " + server.token;
            Path big = Files.write(dir.resolve("big"), "x".repeat(70 * 1024).getBytes(StandardCharsets.US_ASCII));

            CurlRun declared = CurlRun.run(label, "-X", "PUT", "-H", auth, "--data-binary", "@" + big);
            assertThat(declared.status()).isEqualTo(413);
            assertThat(declared.body()).contains("request body of 71680 bytes is over the limit of 65536");
            CurlRun chunked = CurlRun.run(label, "-X", "PUT", "-H", auth, "-H", "Transfer-Encoding: chunked",
                    "--data-binary", "@" + big);
            assertThat(chunked.status()).isEqualTo(413);
            assertThat(CurlRun.run(server.base + "/api/v1/machines/" + MAC).body()).doesNotContain("xxxx");

            // 140 MiB announced, 10 bytes sent: the answer comes at once, the server never waits for the rest.
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", server.server.httpPort()), 5000);
                s.setSoTimeout(5000);
                OutputStream out = s.getOutputStream();
                out.write(("PUT /api/v1/machines/" + MAC + "/assignment HTTP/1.1\r\nHost: x\r\n" + auth
                        + "\r\nContent-Length: 146800640\r\n\r\n0123456789").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                long started = System.nanoTime();
                String status = statusLine(s.getInputStream());
                assertThat(status).startsWith("HTTP/1.1 413");
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(5000);
            }
            CurlRun small = CurlRun.run(label, "-X", "PUT", "-H", auth, "--data-binary", "b7");
            assertThat(small.status()).as(small.body()).isEqualTo(200);
            assertThat(small.body()).contains("\"rack\"").contains("b7");
            assertThat(CurlRun.run(server.base + "/metrics").body())
                    .containsPattern("pivot_refused_total\\{kind=\"api_body_size\"[^}]*} 3\\.0");
        }
    }

    @Test
    void connectionsFromOneAddressAreBoundedAndOthersAreStillServed() throws Exception {
        try (ApiServer server = new ApiServer(dir)) {
            int port = server.server.httpPort();
            InetAddress hog = InetAddress.getByName("127.0.0.77");
            List<Socket> held = new ArrayList<>();
            try {
                for (int i = 0; i < 100; i++) {
                    Socket s = new Socket();
                    s.bind(new InetSocketAddress(hog, 0));
                    s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    held.add(s);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (server.server.refusals().count("http_connections_per_ip") < 36) {
                    assertThat(System.nanoTime()).as("connections over the limit closed").isLessThan(deadline);
                    Thread.sleep(20);
                }
                assertThat(server.server.httpConnections()).isLessThanOrEqualTo(64);
                // The last ones were closed by the server: reading sees the end at once.
                held.getLast().setSoTimeout(5000);
                assertThat(held.getLast().getInputStream().read()).isEqualTo(-1);
                assertThat(CurlRun.run(server.base + "/boot.ipxe?mac=" + MAC).status()).isEqualTo(200);
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    private static String secretIn(String script) {
        Matcher m = Pattern.compile("pivot\\.token=([0-9a-f]{48})").matcher(script);
        assertThat(m.find()).as("the script carries a per-boot secret: %s", script).isTrue();
        return m.group(1);
    }

    private static String statusLine(InputStream in) throws java.io.IOException {
        StringBuilder line = new StringBuilder();
        for (int c; (c = in.read()) != -1 && c != '\n'; ) {
            line.append((char) c);
        }
        return line.toString().strip();
    }
}
