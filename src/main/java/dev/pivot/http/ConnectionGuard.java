package dev.pivot.http;

import dev.pivot.boot.Quota;
import dev.pivot.boot.Refusals;
import org.eclipse.jetty.io.Connection;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bounds open connections in total and per remote address: a connection over a limit is closed as soon as it is
 * opened, before a byte of it is read, and counted. What it holds is one entry per open connection, so it is
 * bounded by the total limit.
 */
final class ConnectionGuard implements Connection.Listener {

    private final Quota<InetAddress> quota;
    private final Refusals refusals;
    private final Map<Connection, InetAddress> admitted = new ConcurrentHashMap<>();

    ConnectionGuard(int total, int perIp, Refusals refusals) {
        this.quota = new Quota<>(total, perIp);
        this.refusals = refusals;
    }

    @Override
    public void onOpened(Connection connection) {
        if (!(connection.getEndPoint().getRemoteSocketAddress() instanceof InetSocketAddress remote)
                || remote.getAddress() == null) {
            return;
        }
        InetAddress ip = remote.getAddress();
        Quota.Verdict verdict = quota.tryAcquire(ip);
        if (verdict == Quota.Verdict.GRANTED) {
            admitted.put(connection, ip);
            return;
        }
        refusals.refuse(verdict == Quota.Verdict.TOTAL ? "http_connections_total" : "http_connections_per_ip",
                ip.getHostAddress(), "HTTP connection closed: " + (verdict == Quota.Verdict.TOTAL
                        ? quota.total() + " connections open" : quota.perSource() + " connections open from it"));
        connection.getEndPoint().close();
    }

    @Override
    public void onClosed(Connection connection) {
        InetAddress ip = admitted.remove(connection);
        if (ip != null) {
            quota.release(ip);
        }
    }

    int open() {
        return quota.inUse();
    }
}
