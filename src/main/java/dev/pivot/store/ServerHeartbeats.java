package dev.pivot.store;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The servers sharing one database see each other here: each writes its row every second (name, base URL) and
 * reads the rows renewed in the last {@value #DEAD_MS} ms. A server that stops (crash, kill -9, cable) stops
 * renewing and drops out of every other server's list within that time; one that closes cleanly deletes its row.
 * A beat that fails also says the store is down ({@link #storeUp}), which {@code /healthz} reports.
 */
public final class ServerHeartbeats implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ServerHeartbeats.class);

    static final long BEAT_MS = 1000;
    static final long DEAD_MS = 5000;
    /** The store counts as down once no beat succeeded for this long (two beats missed, and a slow third). */
    static final long DOWN_AFTER_MS = 3000;

    /** A server alive in the store's view: its name, where its HTTP answers, when it last beat. */
    public record Server(String name, String url, Instant seen) {
    }

    /** Session id slots: up to this many servers share one database. */
    public static final int SLOTS = 64;
    /** A row silent this long frees its slot for a new server (a server that never came back). */
    static final long SLOT_FREED_MS = 3_600_000;

    private static final String BEAT = """
            INSERT INTO server_heartbeat (name, url, started_at, seen_at, slot) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, started_at = EXCLUDED.started_at,
                seen_at = EXCLUDED.seen_at""";

    private final Connections db;
    private final boolean postgres;
    private final String name;
    private volatile String url = "";
    private final int slot;
    private final Clock clock;
    private final long started;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile long lastBeat = Long.MIN_VALUE / 2;
    private volatile List<Server> live = List.of();
    private Set<String> known = Set.of();
    private final List<Runnable> afterBeats = new java.util.concurrent.CopyOnWriteArrayList<>();

    private ServerHeartbeats(Connections db, boolean postgres, String name, int slot, Clock clock) {
        this.db = db;
        this.postgres = postgres;
        this.name = name;
        this.slot = slot;
        this.clock = clock;
        this.started = clock.millis();
        this.thread = Thread.ofPlatform().daemon().name("heartbeat").unstarted(this::loop);
    }

    /**
     * Joins the servers of the (already migrated) database at {@code jdbcUrl}: takes this server's row and its
     * session id slot (the one it had, else the lowest free one). Beating starts with {@link #start}.
     */
    public static ServerHeartbeats join(String jdbcUrl, String name, Clock clock) {
        Connections.Opener opener = jdbcUrl.startsWith("jdbc:postgresql:") ? Connections.postgres(jdbcUrl, null, null)
                : () -> {
                    java.sql.Connection c = java.sql.DriverManager.getConnection(jdbcUrl);
                    c.setAutoCommit(false);
                    return c;
                };
        Connections db = new Connections(JdbcStore.withoutQuery(jdbcUrl), opener);
        StoreException last = null;
        // Two servers starting at once may pick the same free slot: the unique index lets one in, the other retries.
        for (int attempt = 0; attempt < 10; attempt++) {
            try {
                int slot = db.run("cannot join the servers sharing the database", c -> takeSlot(c, name, clock));
                return new ServerHeartbeats(db, jdbcUrl.startsWith("jdbc:postgresql:"), name, slot, clock);
            } catch (StoreException e) {
                last = e;
            }
        }
        db.close();
        throw last;
    }

    private static int takeSlot(java.sql.Connection c, String name, Clock clock) throws java.sql.SQLException {
        long now = clock.millis();
        try (PreparedStatement q = c.prepareStatement("SELECT slot FROM server_heartbeat WHERE name = ?")) {
            q.setString(1, name);
            try (ResultSet rs = q.executeQuery()) {
                if (rs.next()) {
                    return rs.getInt(1);
                }
            }
        }
        try (PreparedStatement d = c.prepareStatement("DELETE FROM server_heartbeat WHERE seen_at < ?")) {
            d.setLong(1, now - SLOT_FREED_MS);
            d.executeUpdate();
        }
        java.util.BitSet used = new java.util.BitSet(SLOTS);
        try (PreparedStatement q = c.prepareStatement("SELECT slot FROM server_heartbeat");
             ResultSet rs = q.executeQuery()) {
            while (rs.next()) {
                used.set(rs.getInt(1));
            }
        }
        int slot = used.nextClearBit(0);
        if (slot >= SLOTS) {
            throw new StoreException("--server-name " + name + ": " + SLOTS + " servers already share this database"
                    + " (a server stopped without --server-name frees its place after an hour)", null);
        }
        try (PreparedStatement b = c.prepareStatement(BEAT)) {
            b.setString(1, name);
            b.setString(2, "");
            b.setLong(3, now);
            b.setLong(4, now);
            b.setInt(5, slot);
            b.executeUpdate();
        }
        return slot;
    }

    /** This server's session id slot, 0 to {@link #SLOTS} - 1. */
    public int slot() {
        return slot;
    }

    /** Beats once now, naming {@code baseUrl} as where this server answers, then every second. */
    public ServerHeartbeats start(String baseUrl) {
        this.url = baseUrl;
        beat();
        thread.start();
        return this;
    }

    /**
     * Runs {@code task} after each beat that reached the store (the first in {@link #start}, the others on the
     * heartbeat's thread): work that reads what the other servers wrote, paced by the beat, and skipped while the
     * store is down (whose outage the beat reports). A task must be quick: the others judge this server by its
     * beat's age.
     */
    public void afterEachBeat(Runnable task) {
        afterBeats.add(task);
    }

    /** Whether the last beat reached the store recently. */
    public boolean storeUp() {
        return clock.millis() - lastBeat < DOWN_AFTER_MS;
    }

    /** The servers alive at the last beat, this one included, by name. */
    public List<Server> live() {
        return live;
    }

    public String name() {
        return name;
    }

    private void loop() {
        while (running) {
            try {
                Thread.sleep(BEAT_MS);
            } catch (InterruptedException e) {
                return;
            }
            if (running) {
                beat();
            }
        }
    }

    private void beat() {
        long now = clock.millis();
        try {
            List<Server> servers = db.run("cannot write this server's heartbeat", c -> {
                if (postgres) {
                    // A beat need not survive a crash, and its age is what the others judge: it must not queue
                    // behind the WAL flush of a busy database (a beat that waited seconds for its commit dropped
                    // a live server out of the others' scripts).
                    try (java.sql.Statement st = c.createStatement()) {
                        st.execute("SET LOCAL synchronous_commit TO OFF");
                    }
                }
                try (PreparedStatement b = c.prepareStatement(BEAT)) {
                    b.setString(1, name);
                    b.setString(2, url);
                    b.setLong(3, started);
                    b.setLong(4, now);
                    b.setInt(5, slot);
                    b.executeUpdate();
                }
                List<Server> out = new ArrayList<>();
                try (PreparedStatement q = c.prepareStatement(
                        "SELECT name, url, seen_at FROM server_heartbeat WHERE seen_at > ? AND url <> ''"
                                + " ORDER BY name")) {
                    q.setLong(1, now - DEAD_MS);
                    try (ResultSet rs = q.executeQuery()) {
                        while (rs.next()) {
                            out.add(new Server(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3))));
                        }
                    }
                }
                return List.copyOf(out);
            });
            boolean wasDown = !storeUp();
            lastBeat = now;
            live = servers;
            Set<String> names = new TreeSet<>();
            servers.forEach(s -> names.add(s.name()));
            if (!names.equals(known)) {
                log.info("servers sharing the store: {}", String.join(", ", names));
                known = names;
            }
            if (wasDown && now - started > BEAT_MS) {
                log.info("store reachable again");
            }
            for (Runnable task : afterBeats) {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    log.warn("after the heartbeat: {}", e.toString());
                }
            }
        } catch (StoreException e) {
            if (storeUp() || now - lastBeat < DOWN_AFTER_MS + BEAT_MS) {
                log.warn("heartbeat: {}", e.getMessage());
            }
        }
    }

    /** Stops beating and removes this server's row: the others drop it at once, not after the timeout. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            if (thread.isAlive()) {
                thread.join(2000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            db.run("cannot remove this server's heartbeat", c -> {
                try (PreparedStatement d = c.prepareStatement("DELETE FROM server_heartbeat WHERE name = ?")) {
                    d.setString(1, name);
                    return d.executeUpdate();
                }
            });
        } catch (StoreException e) {
            log.debug("{}", e.getMessage());
        }
        db.close();
    }
}
