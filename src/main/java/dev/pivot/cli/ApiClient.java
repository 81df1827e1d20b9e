package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** The CLI's view of a running Pivot: its REST API and event stream (docs/api.md). */
final class ApiClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI server;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ApiClient(String serverUrl) {
        URI uri;
        try {
            uri = URI.create(serverUrl.endsWith("/") ? serverUrl : serverUrl + "/");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--server " + serverUrl + ": not a URL");
        }
        if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("--server " + serverUrl + ": expected http://HOST[:PORT]");
        }
        this.server = uri;
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        return send("GET", path, null);
    }

    /** A JSON request ({@code body} null for none); the reply's JSON, or an IOException with the server's reason. */
    JsonNode send(String method, String path, Object body) throws IOException, InterruptedException {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body));
        HttpResponse<String> r = send(HttpRequest.newBuilder(server.resolve(path)).timeout(Duration.ofSeconds(30))
                .header("Accept", "application/json").header("Content-Type", "application/json")
                .method(method, publisher).build(), HttpResponse.BodyHandlers.ofString());
        JsonNode reply;
        try {
            reply = JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IOException(server.resolve(path) + ": HTTP " + r.statusCode() + ", not JSON (is this Pivot?)");
        }
        if (r.statusCode() != 200) {
            throw new IOException(reply.path("error").asText("HTTP " + r.statusCode()));
        }
        return reply;
    }

    /**
     * Reads /api/v1/events until the server ends it: {@code connected} runs once the server has subscribed this
     * client, then {@code onEvent} for each event's JSON.
     */
    void follow(Runnable connected, Consumer<JsonNode> onEvent) throws IOException, InterruptedException {
        HttpResponse<Stream<String>> r = send(HttpRequest.newBuilder(server.resolve("api/v1/events"))
                .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() != 200) {
            throw new IOException(server.resolve("api/v1/events") + ": HTTP " + r.statusCode());
        }
        try (Stream<String> lines = r.body()) {
            readEvents(lines, connected, onEvent);
        } catch (java.io.UncheckedIOException e) {
            throw new IOException("the event stream broke: " + e.getCause().getMessage(), e);
        }
    }

    private static void readEvents(Stream<String> lines, Runnable connected, Consumer<JsonNode> onEvent) {
        lines.forEach(line -> {
            if (line.equals(": connected")) {
                connected.run();
            } else if (line.startsWith("data: ")) {
                try {
                    onEvent.accept(JSON.readTree(line.substring(6)));
                } catch (IOException e) {
                    throw new IllegalStateException("event stream: bad JSON: " + line);
                }
            }
        });
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body)
            throws IOException, InterruptedException {
        try {
            return http.send(request, body);
        } catch (ConnectException e) {
            throw new IOException("cannot reach Pivot at " + server + " (is `pivot serve` running there?)", e);
        }
    }
}
