package dev.pivot.bench;

import dev.pivot.store.SharedLeaseStore;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Two ways for several servers to claim addresses in one PostgreSQL table, each server a thread with its own
 * connection, every claim committed before it counts (as before an OFFER or ACK is sent):
 * <ul>
 * <li>{@code insert}: what Pivot ships ({@link SharedLeaseStore#CLAIM}): the server chooses the address from its own
 * copy (its next candidate; a refusal moves it on) and inserts it; the primary key lets one server through.</li>
 * <li>{@code skiplocked}: one row per address exists; the database chooses: {@code UPDATE … WHERE address = (SELECT
 * … WHERE free … LIMIT 1 FOR UPDATE SKIP LOCKED)}, one statement per machine.</li>
 * </ul>
 * Each with 1 claim per transaction and with 32 (the commit thread groups the replies of a burst). Prints one line
 * per run: {@code method batch servers claims seconds claims/s refused}.
 * Usage: LeaseClaims JDBC-URL SERVERS CLAIMS-PER-SERVER METHOD BATCH
 */
public final class LeaseClaims {

    private static final long FIRST = 10L << 24;

    public static void main(String[] args) throws Exception {
        String url = args[0];
        int servers = Integer.parseInt(args[1]);
        int claims = Integer.parseInt(args[2]);
        String method = args[3];
        int batch = Integer.parseInt(args[4]);
        int range = servers * claims * 2;
        reset(url, method, range);
        AtomicLong refused = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        long start = System.nanoTime();
        for (int s = 0; s < servers; s++) {
            int server = s;
            threads.add(Thread.ofPlatform().start(() -> {
                try (Connection c = DriverManager.getConnection(url)) {
                    c.setAutoCommit(false);
                    if (method.equals("insert")) {
                        insert(c, server, servers, claims, batch, range, refused);
                    } else {
                        skipLocked(c, server, claims, batch);
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!failures.isEmpty()) {
            throw new IllegalStateException(failures.getFirst());
        }
        long rows = count(url, method);
        if (rows != (long) servers * claims) {
            throw new IllegalStateException(method + ": " + rows + " addresses claimed, expected " + servers * claims);
        }
        System.out.printf("%s %d %d %d %.3f %.0f %d%n", method, batch, servers, rows, seconds, rows / seconds,
                refused.get());
    }

    private static void reset(String url, String method, int range) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS bench_lease");
            s.execute("CREATE TABLE bench_lease (address VARCHAR(15) NOT NULL PRIMARY KEY, mac VARCHAR(17) NOT NULL,"
                    + " state VARCHAR(8) NOT NULL, expires_at BIGINT NOT NULL, server VARCHAR(200) NOT NULL,"
                    + " updated_at BIGINT NOT NULL)");
            if (method.equals("skiplocked")) {
                s.execute("INSERT INTO bench_lease SELECT '10.' || (i / 65536) || '.' || ((i / 256) % 256) || '.'"
                        + " || (i % 256), '', 'FREE', 0, '', 0 FROM generate_series(0, " + (range - 1) + ") i");
                s.execute("CREATE INDEX bench_lease_free ON bench_lease (expires_at, address)");
            }
            s.execute("VACUUM ANALYZE bench_lease");
        }
    }

    private static long count(String url, String method) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM bench_lease WHERE state = 'BOUND'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Pivot's way: candidates from this server's own part of the range, refused ones skipped. */
    private static void insert(Connection c, int server, int servers, int claims, int batch, int range,
                               AtomicLong refused) throws SQLException {
        String sql = SharedLeaseStore.CLAIM.replace("dhcp_lease", "bench_lease");
        long now = System.currentTimeMillis();
        // As the lease pool does with a shared store: each server starts at its own place in the range.
        long next = (long) server * range / servers;
        Set<Long> taken = new HashSet<>();
        int done = 0;
        int mac = server << 20;
        try (PreparedStatement claim = c.prepareStatement(sql)) {
            while (done < claims) {
                List<Long> tried = new ArrayList<>();
                for (int i = 0; i < Math.min(batch, claims - done); i++) {
                    while (taken.contains(next % range)) {
                        next++;
                    }
                    long a = next++ % range;
                    tried.add(a);
                    claim.setString(1, address(a));
                    claim.setString(2, String.format("52:54:%02x:%02x:%02x:%02x", (mac >> 24) & 255, (mac >> 16) & 255,
                            (mac >> 8) & 255, mac & 255));
                    mac++;
                    claim.setString(3, "BOUND");
                    claim.setLong(4, now + 3_600_000);
                    claim.setString(5, "server-" + server);
                    claim.setLong(6, now);
                    claim.setLong(7, now);
                    claim.addBatch();
                }
                int[] counts = claim.executeBatch();
                c.commit();
                for (int i = 0; i < counts.length; i++) {
                    taken.add(tried.get(i));
                    if (counts[i] == 0) {
                        refused.incrementAndGet();
                    } else {
                        done++;
                    }
                }
            }
        }
    }

    /** The database chooses: the first free row nobody else has locked, one statement per machine (each has its
     * own MAC), {@code batch} of them sent together and committed at once. */
    private static void skipLocked(Connection c, int server, int claims, int batch) throws SQLException {
        long now = System.currentTimeMillis();
        String sql = "UPDATE bench_lease SET mac = ?, state = 'BOUND', expires_at = ?, server = ?, updated_at = ?"
                + " WHERE address = (SELECT address FROM bench_lease WHERE expires_at <= ? ORDER BY expires_at,"
                + " address LIMIT 1 FOR UPDATE SKIP LOCKED)";
        int done = 0;
        int mac = server << 20;
        try (PreparedStatement claim = c.prepareStatement(sql)) {
            while (done < claims) {
                int n = Math.min(batch, claims - done);
                for (int i = 0; i < n; i++) {
                    claim.setString(1, String.format("52:54:%02x:%02x:%02x:%02x", (mac >> 24) & 255,
                            (mac >> 16) & 255, (mac >> 8) & 255, mac & 255));
                    mac++;
                    claim.setLong(2, now + 3_600_000);
                    claim.setString(3, "server-" + server);
                    claim.setLong(4, now);
                    claim.setLong(5, now);
                    claim.addBatch();
                }
                for (int updated : claim.executeBatch()) {
                    done += updated;
                }
                c.commit();
            }
        }
    }

    private static String address(long i) {
        long a = FIRST + i;
        return ((a >> 24) & 255) + "." + ((a >> 16) & 255) + "." + ((a >> 8) & 255) + "." + (a & 255);
    }
}
