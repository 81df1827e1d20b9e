package dev.pivot.http;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.Fields;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Blocking writes on the request's virtual thread, and the query string, for every HTTP route (the API's too).
 * Every reply carries Content-Length: iPXE stalls at 99 % without one (pixiecore issue #10), and it costs nothing
 * when the size is known, as it always is here.
 */
public final class Replies {

    private Replies() {
    }

    public static boolean isHead(Request request) {
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

    /**
     * The query parameters. A query that is not percent-encoded UTF-8 is the client's fault: an
     * IllegalArgumentException (a 400 on every route) quoting it.
     */
    public static Fields query(Request request) {
        try {
            return Request.extractQueryParameters(request);
        } catch (RuntimeException e) {
            // The answer and the log line show the query without its per-boot secret.
            throw new BadRequest("bad query string '" + ReportEndpoint.printable(
                    String.valueOf(request.getHttpURI().getQuery()).replaceAll("(^|&)(token=)[^&]*", "$1$2…"))
                    + "' (percent-encoding or UTF-8)");
        }
    }

    /** Writes and waits until the bytes are handed to the network (or the client is gone: IOException). */
    public static void write(Response response, boolean last, ByteBuffer content) throws IOException {
        try (Blocker.Callback blocker = Blocker.callback()) {
            response.write(last, content, blocker);
            blocker.block();
        }
    }
}
