package dev.pivot.api;

import dev.pivot.http.Replies;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Who may use the operator API. Changes (PUT, DELETE) always need the token; reads (the API, the event stream,
 * /metrics) need it only when {@code protectReads}. The token comes as {@code Authorization: Bearer TOKEN}, or as
 * {@code ?token=} where a header cannot be set (the browser's EventSource, a Prometheus scrape URL).
 */
public record ApiAccess(String token, boolean protectReads) {

    public ApiAccess {
        if (token.length() < 16) {
            throw new IllegalArgumentException("an API token needs at least 16 characters");
        }
    }

    /**
     * The token in {@code file}; when the file does not exist, a new random one is written there (mode 0600), so a
     * fresh server is never open to changes and the operator finds the token beside the database.
     */
    public static ApiAccess fromFile(Path file, boolean protectReads) throws IOException {
        if (!Files.exists(file)) {
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, HexFormat.of().formatHex(random) + "\n");
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        String token = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (token.length() < 16) {
            throw new IllegalArgumentException(file + ": an API token needs at least 16 characters, found "
                    + token.length());
        }
        return new ApiAccess(token, protectReads);
    }

    /** Whether this request may do what it asks: a change, or a read of protected data. */
    boolean allows(Request request, boolean change) {
        if (!change && !protectReads) {
            return true;
        }
        return matches(presented(request));
    }

    private String presented(Request request) {
        String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return header.substring(7).strip();
        }
        try {
            String query = Replies.query(request).getValue("token");
            return query == null ? "" : query;
        } catch (IllegalArgumentException malformedQuery) {
            return "";
        }
    }

    /** Constant-time comparison: the time taken says nothing about how much of a guess was right. */
    private boolean matches(String presented) {
        return MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), presented.getBytes(StandardCharsets.UTF_8));
    }
}
