package dev.pivot.api;

import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/** The web page: plain files from the class path's web/ folder, no build step, read once. */
final class WebAssets {

    private record Asset(String contentType, byte[] bytes) {
    }

    private final Map<String, Asset> assets = Map.of(
            "/", load("index.html", "text/html; charset=utf-8"),
            "/ui/app.js", load("app.js", "text/javascript; charset=utf-8"),
            "/ui/style.css", load("style.css", "text/css; charset=utf-8"));

    boolean has(String path) {
        return assets.containsKey(path);
    }

    void serve(Request request, Response response, String path) throws IOException {
        Asset a = assets.get(path);
        HttpReplies.bytes(request, response, HttpStatus.OK_200, a.contentType(), a.bytes());
    }

    private static Asset load(String name, String contentType) {
        try (InputStream in = WebAssets.class.getResourceAsStream("/web/" + name)) {
            if (in == null) {
                throw new IllegalStateException("web/" + name + " missing from the class path");
            }
            return new Asset(contentType, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
