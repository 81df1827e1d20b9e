package dev.pivot.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pivot.demo.LabNetwork;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pivot's API as seen from the host while {@code pivot serve} runs inside a lab namespace: a socat relay inside the
 * namespace puts the server's HTTP port on a Unix socket, and one outside puts that socket on a free loopback port
 * (the host's Chromium and the CLI reach it there). The relays end, by process, on close.
 */
final class LabApi implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Process> relays = new ArrayList<>();
    private final String base;

    private LabApi(LabNetwork lab, Duration wait) throws Exception {
        try {
            Path socket = lab.workDir().resolve("pivot-http.sock");
            relays.add(lab.namespace().start(List.of("socat", "UNIX-LISTEN:" + socket + ",fork,unlink-early",
                    "TCP:" + LabNetwork.SERVER_ADDRESS + ":80"), lab.workDir().resolve("relay-inside.log")));
            int port = freePort();
            relays.add(new ProcessBuilder("socat", "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr,fork",
                    "UNIX-CONNECT:" + socket).redirectErrorStream(true)
                    .redirectOutput(lab.workDir().resolve("relay-outside.log").toFile()).start());
            base = "http://127.0.0.1:" + port;
            awaitHttp(base + "/api/v1/machines", wait);
        } catch (Exception | Error e) {
            close();
            throw e;
        }
    }

    /** Starts both relays and waits up to {@code wait} until the API answers through them. */
    static LabApi open(LabNetwork lab, Duration wait) throws Exception {
        return new LabApi(lab, wait);
    }

    /** The API's base URL on the host, e.g. {@code http://127.0.0.1:40123}. */
    String base() {
        return base;
    }

    /** The newest session of {@code mac}, with its events. */
    JsonNode latestSession(String mac) throws Exception {
        JsonNode list = JSON.readTree(get(base + "/api/v1/sessions?limit=1&mac=" + mac));
        JsonNode first = list.isArray() ? list.get(0) : list.get("sessions").get(0);
        return session(first.get("id").asLong());
    }

    JsonNode session(long id) throws Exception {
        return JSON.readTree(get(base + "/api/v1/sessions/" + id));
    }

    /** {@code pivot sessions --mac MAC --limit 1} against this API, asserted to exit 0; its output, also printed. */
    String sessionsCli(Path root, String mac) throws Exception {
        Process cli = new ProcessBuilder(root.resolve("pivot").toString(), "sessions", "--mac", mac,
                "--limit", "1", "--server", base).redirectErrorStream(true).start();
        String out = new String(cli.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(cli.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(cli.exitValue()).as("pivot sessions output:%n%s", out).isZero();
        System.out.println("pivot sessions | " + out.replace("\n", "\npivot sessions | "));
        return out;
    }

    /** The steps of a session's events, in order. */
    static List<String> steps(JsonNode session) {
        List<String> steps = new ArrayList<>();
        session.get("events").forEach(e -> steps.add(e.get("step").asText()));
        return steps;
    }

    /** GETs {@code url} and asserts a 200. */
    static String get(String url) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("GET %s: %s", url, r.body()).isEqualTo(200);
            return r.body();
        }
    }

    private static void awaitHttp(String url, Duration wait) throws Exception {
        long deadline = System.nanoTime() + wait.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                get(url);
                return;
            } catch (Exception | AssertionError e) {
                last = e instanceof Exception ex ? ex : new RuntimeException(e);
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the relay to Pivot's HTTP never answered " + url, last);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        for (Process relay : relays) {
            relay.destroyForcibly();
        }
    }
}
