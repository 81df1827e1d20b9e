package dev.pivot.server;

import dev.pivot.store.PostgresCluster;
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
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /healthz} of two servers sharing one PostgreSQL (Debian's, private): no token needed; 200 with both
 * servers listed; a server that stops beating (a row nobody renews, as after kill -9) drops out within seconds, one
 * that closes drops out at once; 503 while PostgreSQL is stopped, 200 again once it is back. A server alone on
 * SQLite answers 200 with itself. A server with {@code --root-transport nbd} names its NBD port (stage 1 attaches
 * there when it moves on to that server), one without names none.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class HealthIT {

    @TempDir
    Path tmp;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void serversSeeEachOtherAndSayWhenTheStoreIsDown() throws Exception {
        Path bin = PostgresCluster.requireBinDir();
        Path image = TestImage.nixos(tmp, "health");
        try (PostgresCluster pg = PostgresCluster.start(bin)) {
            String url = pg.url() + "?user=pivot";
            try (PivotServer a = start(image, "alpha", Optional.of(url), ServerConfig.RootTransport.NBD);
                 PivotServer b = start(image, "beta", Optional.of(url), ServerConfig.RootTransport.NBD)) {
                String alpha = "http://127.0.0.1:" + a.httpPort();
                await(alpha, 10, r -> r.statusCode() == 200 && r.body().contains("\"name\":\"beta\""),
                        "alpha lists beta");
                HttpResponse<String> h = get(alpha + "/healthz");
                assertThat(h.body()).contains("\"status\":\"up\"", "\"server\":\"alpha\"", "\"store\":\"up\"",
                        "\"url\":\"http://127.0.0.1:" + b.httpPort());
                assertThat(h.headers().firstValue("content-type")).hasValueSatisfying(
                        t -> assertThat(t).startsWith("application/json"));
                // Each its own NBD port (0: a free one), named for stage 1.
                assertThat(a.nbdPort()).isPresent().isNotEqualTo(b.nbdPort());
                assertThat(h.body()).contains("\"nbdPort\":" + a.nbdPort().getAsInt());
                assertThat(get("http://127.0.0.1:" + b.httpPort() + "/healthz").body())
                        .contains("\"server\":\"beta\"", "\"nbdPort\":" + b.nbdPort().getAsInt());

                // A server that stops beating without a word (kill -9, a pulled cable): gone within seconds.
                pg.psql("INSERT INTO server_heartbeat (name, url, started_at, seen_at, slot) VALUES ('gamma',"
                        + " 'http://192.0.2.1', 0, " + System.currentTimeMillis() + ", 63)");
                await(alpha, 5, r -> r.body().contains("\"name\":\"gamma\""), "alpha lists gamma");
                long quiet = System.nanoTime();
                await(alpha, 15, r -> !r.body().contains("\"name\":\"gamma\""), "gamma dropped");
                double seconds = (System.nanoTime() - quiet) / 1e9;
                System.out.printf("healthz: a silent server dropped out after %.1f s%n", seconds);

                b.close();
                await(alpha, 5, r -> !r.body().contains("\"name\":\"beta\""), "beta dropped once closed");

                pg.stop();
                await(alpha, 15, r -> r.statusCode() == 503 && r.body().contains("\"store\":\"down\""),
                        "503 while PostgreSQL is down");
                pg.restart();
                await(alpha, 30, r -> r.statusCode() == 200 && r.body().contains("\"status\":\"up\""),
                        "200 once PostgreSQL is back");
            }
        }
        try (PivotServer alone = start(image, "solo", Optional.empty(), ServerConfig.RootTransport.HTTP)) {
            HttpResponse<String> h = get("http://127.0.0.1:" + alone.httpPort() + "/healthz");
            assertThat(h.statusCode()).isEqualTo(200);
            assertThat(h.body()).contains("\"status\":\"up\"", "\"name\":\"solo\"");
            assertThat(h.body()).as("no NBD with the root image over HTTP").doesNotContain("nbdPort");
        }
    }

    private PivotServer start(Path image, String name, Optional<String> database,
                              ServerConfig.RootTransport transport) throws Exception {
        ServerConfig config = ServerConfig.builder(image, new ServerConfig.Where.Listen("127.0.0.1"))
                .rootTransport(transport, 0)
                .dhcp(ServerConfig.DhcpMode.OFF, Optional.empty()).ports(0, 0).state(tmp.resolve("state-" + name))
                .ipxeDir(Files.createDirectories(tmp.resolve("ipxe"))).database(database).skipCheck(true)
                .cluster(new ServerConfig.Cluster(ServerConfig.DhcpLeases.JOURNAL, Optional.of(name))).build();
        StringWriter said = new StringWriter();
        return PivotServer.start(config, new PrintStream(OutputStream.nullOutputStream()), new PrintWriter(said, true));
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private void await(String base, int seconds, Predicate<HttpResponse<String>> wanted, String what)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        HttpResponse<String> last = null;
        while (System.nanoTime() < deadline) {
            try {
                last = get(base + "/healthz");
                if (wanted.test(last)) {
                    return;
                }
            } catch (java.io.IOException e) {
                last = null;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(what + " not within " + seconds + " s; last /healthz: "
                + (last == null ? "no answer" : last.statusCode() + " " + last.body()));
    }
}
