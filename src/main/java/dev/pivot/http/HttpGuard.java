package dev.pivot.http;

import dev.pivot.boot.BootSecrets;
import dev.pivot.boot.Refusals;

import java.time.Duration;

/**
 * What bounds and authenticates the HTTP side: connection and stream limits, the per-boot secrets that make a
 * machine's reports count, where refusals are counted, and whether a script's URLs may follow the Host header.
 *
 * @param connections       open connections in total; past it a new connection is closed at once
 * @param connectionsPerIp  open connections from one address
 * @param idleTimeout       a connection that sends nothing (headers included) for this long is closed
 * @param streams           artifact and iPXE file downloads at once in total (each may hold a copy buffer)
 * @param streamsPerIp      ... and from one address; past either the download gets 503 with Retry-After
 * @param sseClients        live event streams at once
 * @param bodyBytes         the largest request body the API reads; the length is checked before reading
 * @param trustHostHeader   scripts name the server as the client's Host header did, not the address it reached
 */
public record HttpGuard(BootSecrets secrets, Refusals refusals, int connections, int connectionsPerIp,
                        Duration idleTimeout, int streams, int streamsPerIp, int sseClients, int bodyBytes,
                        boolean trustHostHeader) {

    public static final int DEFAULT_CONNECTIONS = 4096;
    public static final int DEFAULT_CONNECTIONS_PER_IP = 64;
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_STREAMS = 2048;
    public static final int DEFAULT_STREAMS_PER_IP = 16;
    public static final int DEFAULT_SSE_CLIENTS = 64;
    public static final int DEFAULT_BODY_BYTES = 64 * 1024;

    public HttpGuard {
        if (connections < 1 || connectionsPerIp < 1 || streams < 1 || streamsPerIp < 1 || sseClients < 1
                || bodyBytes < 1) {
            throw new IllegalArgumentException("HTTP limits must be at least 1");
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("HTTP idle timeout " + idleTimeout + " is not positive");
        }
    }

    /** The defaults, with a key of this process only (tests). */
    public static HttpGuard defaults() {
        return new HttpGuard(BootSecrets.ephemeral(), new Refusals(), DEFAULT_CONNECTIONS, DEFAULT_CONNECTIONS_PER_IP,
                DEFAULT_IDLE_TIMEOUT, DEFAULT_STREAMS, DEFAULT_STREAMS_PER_IP, DEFAULT_SSE_CLIENTS,
                DEFAULT_BODY_BYTES, false);
    }
}
