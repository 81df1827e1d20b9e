package dev.pivot.http;

import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

import java.io.IOException;

/**
 * Routes that live outside the boot path (REST API, metrics, web page), consulted by {@link PivotHttpServer}
 * before its own. Keeps the boot server free of what operators look at.
 */
public interface ExtraRoutes extends AutoCloseable {

    /**
     * Serves the request completely (status, headers, body, blocking on this virtual thread) and returns true when
     * {@code path} is one of these routes; returns false, having written nothing, otherwise.
     */
    boolean serve(Request request, Response response, String path) throws IOException;

    /** Called before the server stops, so long-lived replies (event streams) can end. */
    @Override
    default void close() {
    }

    ExtraRoutes NONE = (request, response, path) -> false;
}
