package dev.pivot.nbd;

import java.net.InetAddress;
import java.time.Duration;

/**
 * @param bind             the address to listen on
 * @param port             10809 is NBD's IANA port; 0 picks a free one
 * @param maxConnections   connections served at once; more are closed as they arrive (each holds one file
 *                         descriptor for its export, a socket and a read buffer)
 * @param handshakeTimeout a connection that has not finished its handshake by then is closed, so idle
 *                         connections cannot hold every slot
 */
public record NbdConfig(InetAddress bind, int port, int maxConnections, Duration handshakeTimeout) {

    public static final int DEFAULT_PORT = 10809;
    public static final int DEFAULT_MAX_CONNECTIONS = 512;
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    public NbdConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("NBD port " + port + ": not a port");
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("NBD connections " + maxConnections + ": at least 1");
        }
    }

    public static NbdConfig defaults(InetAddress bind, int port) {
        return new NbdConfig(bind, port, DEFAULT_MAX_CONNECTIONS, DEFAULT_HANDSHAKE_TIMEOUT);
    }
}
