package dev.pivot.cli;

import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Which running `pivot serve` a client command talks to ({@code --server}) and the API token it shows
 * ({@code --token-file}, {@code --state}). One picocli mixin, so machines, sessions, assign and label spell,
 * default and describe them alike.
 */
final class ServerOptions {

    static final String DEFAULT_SERVER = "http://127.0.0.1:80";
    static final Path DEFAULT_STATE = Path.of("/var/lib/pivot");

    @Option(names = "--server", paramLabel = "URL",
            description = {"pivot serve's http://HOST[:PORT] or HOST:PORT",
                    "default: $PIVOT_SERVER, else " + DEFAULT_SERVER})
    String server;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = {"the server's API token", "default: $PIVOT_TOKEN, else STATE/api-token"})
    Path tokenFile;

    @Option(names = "--state", paramLabel = "DIR",
            description = {"the server's --state: its api-token is the last resort", "default: /var/lib/pivot"})
    Path state;

    /** The environment; tests replace it. */
    UnaryOperator<String> env = System::getenv;

    /** A client of the server, with the token as {@link #token()} finds it. */
    ApiClient client() {
        return new ApiClient(serverUri(), token());
    }

    /** --server, else $PIVOT_SERVER, else http://127.0.0.1:80; a bad one is named with where it came from. */
    URI serverUri() {
        if (server != null) {
            return parseServer("--server " + server, server);
        }
        String fromEnv = env.apply("PIVOT_SERVER");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return parseServer("PIVOT_SERVER=" + fromEnv, fromEnv.strip());
        }
        return parseServer(DEFAULT_SERVER, DEFAULT_SERVER);
    }

    /** {@code http://HOST[:PORT][/PATH]} or {@code HOST:PORT} (or a bare HOST: port 80), always ending in '/'. */
    static URI parseServer(String named, String text) {
        String url = text.contains("://") ? text : "http://" + text;
        URI uri;
        try {
            uri = new URI(url.endsWith("/") ? url : url + "/");
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(named + ": not a URL or HOST:PORT");
        }
        if (!"http".equals(uri.getScheme()) || uri.getHost() == null) {
            // An authority that did not parse as host:port (a port of letters, say) leaves no host.
            throw new IllegalArgumentException(named + ": expected http://HOST[:PORT] or HOST:PORT");
        }
        if (uri.getPort() == 0 || uri.getPort() > 65535) {
            throw new IllegalArgumentException(named + ": port " + uri.getPort() + " is not 1 to 65535");
        }
        return uri;
    }

    /**
     * The token: --token-file (read or fail), else $PIVOT_TOKEN, else STATE/api-token when this user may read it,
     * else none, remembering what was tried so that a server asking for a token gets one line naming them.
     */
    ApiClient.Token token() {
        if (tokenFile != null) {
            try {
                return ApiClient.Token.of(Files.readString(tokenFile).strip(), "--token-file " + tokenFile);
            } catch (IOException e) {
                throw new IllegalArgumentException("--token-file " + tokenFile + ": " + why(e));
            }
        }
        List<String> tried = new ArrayList<>();
        tried.add("--token-file (not given)");
        String fromEnv = env.apply("PIVOT_TOKEN");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return ApiClient.Token.of(fromEnv.strip(), "$PIVOT_TOKEN");
        }
        tried.add("$PIVOT_TOKEN (not set)");
        Path file = (state != null ? state : DEFAULT_STATE).resolve("api-token");
        try {
            return ApiClient.Token.of(Files.readString(file).strip(), file.toString());
        } catch (IOException e) {
            if (state != null && !Files.isDirectory(state)) {
                tried.add("--state " + state + " (" + (Files.exists(state) ? "not a directory" : "no such directory")
                        + ")");
            } else {
                tried.add(file + " (" + why(e) + ")");
            }
        }
        return new ApiClient.Token(Optional.empty(), "", tried);
    }

    private static String why(IOException e) {
        return switch (e) {
            case NoSuchFileException n -> "no such file";
            case AccessDeniedException a -> "permission denied: run as the server's user, or root";
            default -> e.getMessage() == null ? e.toString() : e.getMessage();
        };
    }
}
