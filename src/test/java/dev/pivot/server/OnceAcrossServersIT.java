package dev.pivot.server;

import dev.pivot.api.HeadlessChromium;
import dev.pivot.store.PostgresCluster;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestFiles;
import dev.pivot.testsupport.TestImage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A {@code --once} assignment across two servers on one PostgreSQL (Debian's, private): made through one server's
 * API, both hand it out; the machine's script comes from one server and its stage 2 report reaches both at once
 * (a report retried on the other server after its answer was lost); the assignment is used up once, and from then
 * on both servers hand the machine its usual profile.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class OnceAcrossServersIT {

    private static final String MAC = "52:54:00:a5:17:01";

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void aOnceAssignmentIsUsedUpOnceWhenBothServersSeeTheBoot() throws Exception {
        Path bin = PostgresCluster.requireBinDir();
        Require.file(HeadlessChromium.BINARY, "chromium");
        Path usual = TestImage.nixos(tmp, "default");
        Path rescue = TestImage.nixos(tmp, "rescue");
        String usualKernel = TestFiles.sha256(usual.resolve("bzImage"));
        String rescueKernel = TestFiles.sha256(rescue.resolve("bzImage"));
        Path profiles = Files.writeString(tmp.resolve("profiles.yaml"), "profiles:\n  default:\n    image: " + usual
                + "\n  rescue:\n    image: " + rescue + "\n");
        // Each server has a boot key of its own in its state directory; the shared database's (the first server's)
        // is the one both use, so a token one issued counts at the other.
        try (PostgresCluster pg = PostgresCluster.start(bin)) {
            String url = pg.url() + "?user=pivot";
            try (PivotServer a = start("pxe-a", url, profiles);
                 PivotServer b = start("pxe-b", url, profiles)) {
                String baseA = "http://127.0.0.1:" + a.httpPort();
                String baseB = "http://127.0.0.1:" + b.httpPort();
                await(() -> get(baseA + "/healthz").body().contains("\"name\":\"pxe-b\""), 15, "pxe-a lists pxe-b");
                await(() -> get(baseB + "/healthz").body().contains("\"name\":\"pxe-a\""), 15, "pxe-b lists pxe-a");

                String token = Files.readString(a.config().tokenFile()).strip();
                HttpResponse<String> assigned = http.send(HttpRequest.newBuilder(
                                URI.create(baseA + "/api/v1/machines/" + MAC + "/assignment"))
                        .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(10))
                        .PUT(HttpRequest.BodyPublishers.ofString("{\"profile\":\"rescue\",\"once\":true}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(assigned.statusCode()).as("PUT assignment: %s", assigned.body()).isEqualTo(200);

                // Both servers read the assignment from the store: either would boot the machine into rescue.
                String scriptB = script(baseB);
                assertThat(scriptB).as("pxe-b's script").contains(rescueKernel).doesNotContain(usualKernel);
                String script = script(baseA);
                assertThat(script).as("pxe-a's script").contains(rescueKernel).doesNotContain(usualKernel);
                assertThat(script).as("pxe-a's script names pxe-b for the fallback").contains(baseB);
                Matcher secret = Pattern.compile("pivot\\.token=([0-9a-f]+)").matcher(script);
                assertThat(secret.find()).as("the boot's token in %s", script).isTrue();
                String bootToken = secret.group(1);

                for (String step : List.of("stage1", "network", "root_fetched", "handover")) {
                    assertThat(report(baseA, bootToken, step).statusCode()).as("report %s", step).isEqualTo(200);
                }
                // Stage 2 reaches both servers at the same moment.
                CompletableFuture<HttpResponse<String>> toA = CompletableFuture.supplyAsync(
                        () -> reportUnchecked(baseA, bootToken, "stage2"));
                CompletableFuture<HttpResponse<String>> toB = CompletableFuture.supplyAsync(
                        () -> reportUnchecked(baseB, bootToken, "stage2"));
                assertThat(toA.get(30, TimeUnit.SECONDS).statusCode()).as("stage 2 to pxe-a").isEqualTo(200);
                assertThat(toB.get(30, TimeUnit.SECONDS).statusCode()).as("stage 2 to pxe-b").isEqualTo(200);

                // Used up: the next boot, from either server, is the usual one, and the store holds no assignment.
                await(() -> pg.psql("SELECT count(*) FROM machine_assignment WHERE mac = '" + MAC + "'")
                        .equals("0"), 15, "the once assignment removed from the store");
                for (String base : List.of(baseA, baseB)) {
                    String next = script(base);
                    assertThat(next).as("the next script from %s", base).contains(usualKernel)
                            .doesNotContain(rescueKernel);
                }
                String sessions = get(baseB + "/api/v1/sessions?limit=10&mac=" + MAC).body();
                assertThat(sessions).as("both servers recorded the boot").contains("\"server\":\"pxe-a\"")
                        .contains("\"server\":\"pxe-b\"");
                // The page (either server's) says which server recorded each of the machine's boots.
                try (HeadlessChromium page = HeadlessChromium.open(baseA + "/", tmp.resolve("chromium"), 1200, 800)) {
                    String card = "document.querySelector('[data-mac=\"" + MAC + "\"]')";
                    page.waitUntil(card, Duration.ofSeconds(20));
                    page.eval(card + ".querySelector('details.earlier summary').click()");
                    page.waitUntil(card + ".textContent.includes('via pxe-a') && " + card
                            + ".textContent.includes('via pxe-b')", Duration.ofSeconds(20));
                }
            }
        }
    }

    private PivotServer start(String name, String database, Path profiles) throws Exception {
        Path state = Files.createDirectories(tmp.resolve("state-" + name));
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.writeString(state.resolve("boot-key"), HexFormat.of().formatHex(key) + "\n");
        ServerConfig config = ServerConfig.builder(tmp.resolve("image-default"),
                        new ServerConfig.Where.Listen("127.0.0.1"))
                .dhcp(ServerConfig.DhcpMode.OFF, Optional.empty()).ports(0, 0).state(state)
                .ipxeDir(Files.createDirectories(tmp.resolve("ipxe"))).database(Optional.of(database))
                .profiles(Optional.of(profiles)).skipCheck(true)
                .cluster(new ServerConfig.Cluster(ServerConfig.DhcpLeases.JOURNAL, Optional.of(name))).build();
        return PivotServer.start(config, new PrintStream(OutputStream.nullOutputStream()),
                new PrintWriter(new StringWriter(), true));
    }

    private String script(String base) throws Exception {
        HttpResponse<String> r = get(base + "/boot.ipxe?mac=" + MAC);
        assertThat(r.statusCode()).as("GET %s/boot.ipxe: %s", base, r.body()).isEqualTo(200);
        return r.body();
    }

    private HttpResponse<String> report(String base, String token, String step) throws Exception {
        return get(base + "/report?mac=" + MAC + "&token=" + token + "&step=" + step + "&status=ok");
    }

    private HttpResponse<String> reportUnchecked(String base, String token, String step) {
        try {
            return report(base, token, step);
        } catch (Exception e) {
            throw new IllegalStateException("report " + step + " to " + base + ": " + e, e);
        }
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void await(Check check, int seconds, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (check.holds()) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(what + ": not within " + seconds + " s");
    }
}
