package dev.pivot.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pivot.http.Replies;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** The API's JSON replies, each with Content-Length (but the event stream); written with the HTTP side's {@link Replies}. */
final class HttpReplies {

    static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private HttpReplies() {
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void json(Request request, Response response, int status, Object value) throws IOException {
        bytes(request, response, status, "application/json; charset=utf-8", (json(value) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** {"error": "..."}: one reason a client can show. */
    static void error(Request request, Response response, int status, String reason) throws IOException {
        json(request, response, status, Map.of("error", reason));
    }

    static void bytes(Request request, Response response, int status, String contentType, byte[] body)
            throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        Replies.write(response, true, Replies.isHead(request) ? null : ByteBuffer.wrap(body));
    }
}
