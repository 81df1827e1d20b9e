package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** The CLI's view of a running Pivot: its REST API and event stream (docs/api.md). */
final class ApiClient {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The API token and where it came from, or none and what was tried: the server's 401 and a change without a
     * token are explained with these.
     */
    record Token(Optional<String> value, String source, List<String> tried) {
        static Token of(String value, String source) {
            if (value.isEmpty()) {
                throw new IllegalArgumentException(source + ": empty, expected the API token");
            }
            return new Token(Optional.of(value), source, List.of());
        }

        static Token none() {
            return new Token(Optional.empty(), "", List.of());
        }

        String missing() {
            return "no API token: tried " + String.join(", ", tried) + "; give --token-file FILE or set PIVOT_TOKEN";
        }
    }

    private final URI server;
    private final Token token;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** @param server http://HOST:PORT/ as {@link ServerOptions#parseServer} makes it */
    ApiClient(URI server, Token token) {
        this.server = server;
        this.token = token;
    }

    static JsonNode parse(String json) throws IOException {
        return JSON.readTree(json);
    }

    private HttpRequest.Builder authorized(HttpRequest.Builder request) {
        token.value().ifPresent(t -> request.header("Authorization", "Bearer " + t));
        return request;
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        return parse(getRaw(path));
    }

    /** The reply's body as the server sent it (for --json). */
    String getRaw(String path) throws IOException, InterruptedException {
        return exchange("GET", path, HttpRequest.BodyPublishers.noBody(), "application/json");
    }

    /** A JSON request ({@code body} null for none); the reply's JSON, or an {@link ExitCodes.ApiError}. */
    JsonNode send(String method, String path, Object body) throws IOException, InterruptedException {
        return parse(exchange(method, path, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)), "application/json"));
    }

    /** A request with a text body (a label's value). */
    JsonNode sendText(String method, String path, String body) throws IOException, InterruptedException {
        return parse(exchange(method, path, HttpRequest.BodyPublishers.ofString(body), "text/plain; charset=utf-8"));
    }

    private String exchange(String method, String path, HttpRequest.BodyPublisher body, String contentType)
            throws IOException, InterruptedException {
        boolean change = !"GET".equals(method);
        if (change && token.value().isEmpty()) {
            throw new IllegalArgumentException(token.missing()); // every change needs it: say so before asking
        }
        URI uri = server.resolve(path);
        HttpResponse<String> r = send(authorized(HttpRequest.newBuilder(uri)).timeout(Duration.ofSeconds(30))
                .header("Accept", "application/json").header("Content-Type", contentType)
                .method(method, body).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 401) {
            throw unauthorized();
        }
        JsonNode reply;
        try {
            reply = parse(r.body());
        } catch (IOException e) {
            throw new ExitCodes.ApiError(r.statusCode(), uri + ": HTTP " + r.statusCode() + ", not JSON (is this Pivot?)");
        }
        if (r.statusCode() != 200) {
            throw new ExitCodes.ApiError(r.statusCode(), reply.path("error").asText("HTTP " + r.statusCode()));
        }
        return r.body();
    }

    private IllegalArgumentException unauthorized() {
        return new IllegalArgumentException(token.value().isEmpty()
                ? "the server protects reads (--protect-reads): " + token.missing()
                : "the server refused the API token from " + token.source());
    }

    /**
     * Reads /api/v1/events until the server ends it: {@code connected} runs once the server has subscribed this
     * client, then {@code onEvent} for each event's JSON text, as sent.
     */
    void follow(Runnable connected, Consumer<String> onEvent) throws IOException, InterruptedException {
        HttpResponse<Stream<String>> r = send(authorized(HttpRequest.newBuilder(server.resolve("api/v1/events")))
                .header("Accept", "text/event-stream").build(), HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() == 401) {
            r.body().close();
            throw unauthorized();
        }
        if (r.statusCode() != 200) {
            r.body().close();
            throw new ExitCodes.ApiError(r.statusCode(), server.resolve("api/v1/events") + ": HTTP " + r.statusCode());
        }
        try (Stream<String> lines = r.body()) {
            lines.forEach(line -> {
                if (line.equals(": connected")) {
                    connected.run();
                } else if (line.startsWith("data: ")) {
                    onEvent.accept(line.substring(6));
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw new IOException("the event stream broke: " + e.getCause().getMessage(), e);
        }
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body)
            throws IOException, InterruptedException {
        try {
            return http.send(request, body);
        } catch (ConnectException | HttpConnectTimeoutException e) {
            throw new ExitCodes.Unreachable("cannot reach Pivot at " + server + " (is `pivot serve` running there?)", e);
        } catch (HttpTimeoutException e) {
            throw new ExitCodes.Unreachable(server + " did not answer within 30 s", e);
        }
    }
}
