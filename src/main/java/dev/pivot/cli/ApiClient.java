package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** The CLI's view of a running Pivot: its REST API and event stream (docs/api.md). */
final class ApiClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where `pivot serve` keeps its API token by default (its --state directory). */
    static final Path DEFAULT_TOKEN_FILE = Path.of("/var/lib/pivot/api-token");

    private final URI server;
    private final Optional<String> token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ApiClient(String serverUrl) {
        this(serverUrl, null);
    }

    /**
     * @param tokenFile the server's API token; null: $PIVOT_TOKEN, else /var/lib/pivot/api-token when readable
     *                  (the same machine as the server), else none (reads only, unless the server protects them)
     */
    ApiClient(String serverUrl, Path tokenFile) {
        this.token = token(tokenFile);
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

    private static Optional<String> token(Path tokenFile) {
        try {
            if (tokenFile != null) {
                return Optional.of(Files.readString(tokenFile).strip());
            }
            String env = System.getenv("PIVOT_TOKEN");
            if (env != null && !env.isBlank()) {
                return Optional.of(env.strip());
            }
            return Files.isReadable(DEFAULT_TOKEN_FILE) ? Optional.of(Files.readString(DEFAULT_TOKEN_FILE).strip())
                    : Optional.empty();
        } catch (IOException e) {
            throw new IllegalArgumentException("--token-file " + tokenFile + ": cannot read it (" + e.getMessage() + ")");
        }
    }

    private HttpRequest.Builder authorized(HttpRequest.Builder request) {
        token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
        return request;
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        return send("GET", path, null);
    }

    /** A JSON request ({@code body} null for none); the reply's JSON, or an IOException with the server's reason. */
    JsonNode send(String method, String path, Object body) throws IOException, InterruptedException {
        HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body));
        HttpResponse<String> r = send(authorized(HttpRequest.newBuilder(server.resolve(path))).timeout(Duration.ofSeconds(30))
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
        HttpResponse<Stream<String>> r = send(authorized(HttpRequest.newBuilder(server.resolve("api/v1/events")))
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
