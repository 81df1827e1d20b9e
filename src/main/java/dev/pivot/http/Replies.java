package dev.pivot.http;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Blocking writes on the request's virtual thread. Every reply carries Content-Length: iPXE stalls at 99 %
 * without one (pixiecore issue #10), and it costs nothing when the size is known, as it always is here.
 */
final class Replies {

    private Replies() {
    }

    static boolean isHead(Request request) {
        return HttpMethod.HEAD.is(request.getMethod());
    }

    /** A complete text/plain reply; HEAD gets the same headers without the body. */
    static void text(Request request, Response response, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
        write(response, true, isHead(request) ? null : ByteBuffer.wrap(bytes));
    }

    /** Writes and waits until the bytes are handed to the network (or the client is gone: IOException). */
    static void write(Response response, boolean last, ByteBuffer content) throws IOException {
        try (Blocker.Callback blocker = Blocker.callback()) {
            response.write(last, content, blocker);
            blocker.block();
        }
    }
}
