package dev.pivot.store;

import dev.pivot.boot.Assignments;
import dev.pivot.boot.BootSession;
import dev.pivot.boot.EventLog;
import dev.pivot.boot.Machine;
import dev.pivot.boot.MachineRepository;
import dev.pivot.boot.MacAddress;
import dev.pivot.events.BootEvent;
import dev.pivot.events.Step;
import org.flywaydb.core.Flyway;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The event log and machine inventory in SQL that SQLite and PostgreSQL both run. One connection, used under
 * this object's lock: boot events arrive at tens per second at most, and one writer keeps SQLite simple.
 */
public final class JdbcStore implements EventLog, MachineRepository, Assignments, AutoCloseable {

    private final Connection db;
    private final String where;

    private JdbcStore(Connection db, String where) {
        this.db = db;
        this.where = where;
    }

    /**
     * Opens (creating and migrating) a SQLite database file. WAL lets the API read while events are written;
     * synchronous=FULL makes each commit reach the disk before {@link #append} returns.
     */
    public static JdbcStore openSqlite(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (java.io.IOException e) {
            throw new StoreException("cannot create the directory of " + file + ": " + e.getMessage(), e);
        }
        String url = "jdbc:sqlite:" + file.toAbsolutePath();
        try {
            Connection c = DriverManager.getConnection(url);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("PRAGMA foreign_keys=ON");
            }
            migrate(url, null, null, file.toString());
            return ready(c, file.toString());
        } catch (SQLException e) {
            throw new StoreException("cannot open the database " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Opens a database by JDBC URL (e.g. jdbc:postgresql://host:port/db) and migrates it; user and password may be
     * null when the URL carries them.
     */
    public static JdbcStore open(String url, String user, String password) {
        if (!url.startsWith("jdbc:postgresql:") && !url.startsWith("jdbc:sqlite:")) {
            throw new StoreException("database " + url + ": expected a jdbc:postgresql: or jdbc:sqlite: URL", null);
        }
        try {
            migrate(url, user, password, url);
            return ready(DriverManager.getConnection(url, user, password), url);
        } catch (SQLException e) {
            throw new StoreException("cannot open the database " + url + ": " + e.getMessage(), e);
        }
    }

    private static void migrate(String url, String user, String password, String where) {
        try {
            Flyway.configure().dataSource(url, user, password).locations("classpath:db/migration")
                    .loggers("slf4j").load().migrate();
        } catch (RuntimeException e) {
            throw new StoreException("cannot migrate the database " + where + ": " + e.getMessage(), e);
        }
    }

    private static JdbcStore ready(Connection c, String where) throws SQLException {
        c.setAutoCommit(false);
        return new JdbcStore(c, where);
    }

    // ---------------------------------------------------------------- EventLog

    @Override
    public synchronized void append(BootSession session) {
        BootEvent e = session.events().getLast();
        int seq = session.events().size();
        transaction("cannot record " + e.mac() + " " + e.step().wire(), () -> {
            long at = micros(e.at());
            try (PreparedStatement upsert = db.prepareStatement("""
                    INSERT INTO machine (mac, first_seen, last_seen, firmware) VALUES (?, ?, ?, ?)
                    ON CONFLICT (mac) DO UPDATE SET
                      last_seen = CASE WHEN excluded.last_seen > machine.last_seen
                                       THEN excluded.last_seen ELSE machine.last_seen END,
                      firmware = COALESCE(excluded.firmware, machine.firmware)""")) {
                upsert.setString(1, e.mac().toString());
                upsert.setLong(2, at);
                upsert.setLong(3, at);
                upsert.setString(4, Machine.firmwareOf(e).orElse(null));
                upsert.executeUpdate();
            }
            if (seq == 1) {
                try (PreparedStatement s = db.prepareStatement(
                        "INSERT INTO boot_session (id, mac, started) VALUES (?, ?, ?)")) {
                    s.setLong(1, session.id());
                    s.setString(2, e.mac().toString());
                    s.setLong(3, at);
                    s.executeUpdate();
                }
            }
            try (PreparedStatement s = db.prepareStatement("""
                    INSERT INTO boot_event (session_id, seq, at_us, step, failed, detail, bytes)
                    VALUES (?, ?, ?, ?, ?, ?, ?)""")) {
                s.setLong(1, session.id());
                s.setInt(2, seq);
                s.setLong(3, at);
                s.setString(4, e.step().wire());
                s.setInt(5, e.failed() ? 1 : 0);
                s.setString(6, e.detail());
                s.setLong(7, e.bytes());
                s.executeUpdate();
            }
            return null;
        });
    }

    @Override
    public synchronized long lastSessionId() {
        return read(() -> {
            try (Statement s = db.createStatement();
                 ResultSet r = s.executeQuery("SELECT COALESCE(MAX(id), 0) FROM boot_session")) {
                r.next();
                return r.getLong(1);
            }
        });
    }

    @Override
    public synchronized List<BootSession> sessions(Optional<MacAddress> mac, int limit) {
        return read(() -> {
            record Row(long id, MacAddress mac) {
            }
            List<Row> rows = new ArrayList<>();
            String sql = "SELECT id, mac FROM boot_session" + (mac.isPresent() ? " WHERE mac = ?" : "")
                    + " ORDER BY id DESC LIMIT ?";
            try (PreparedStatement s = db.prepareStatement(sql)) {
                int i = 1;
                if (mac.isPresent()) {
                    s.setString(i++, mac.get().toString());
                }
                s.setInt(i, Math.max(0, limit));
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        rows.add(new Row(r.getLong(1), MacAddress.parse(r.getString(2))));
                    }
                }
            }
            List<BootSession> out = new ArrayList<>();
            for (Row row : rows) {
                out.add(new BootSession(row.id(), row.mac(), events(row.id(), row.mac())));
            }
            return out;
        });
    }

    @Override
    public synchronized Optional<BootSession> session(long id) {
        return read(() -> {
            try (PreparedStatement s = db.prepareStatement("SELECT mac FROM boot_session WHERE id = ?")) {
                s.setLong(1, id);
                try (ResultSet r = s.executeQuery()) {
                    if (!r.next()) {
                        return Optional.empty();
                    }
                    MacAddress mac = MacAddress.parse(r.getString(1));
                    return Optional.of(new BootSession(id, mac, events(id, mac)));
                }
            }
        });
    }

    private List<BootEvent> events(long sessionId, MacAddress mac) throws SQLException {
        List<BootEvent> events = new ArrayList<>();
        try (PreparedStatement s = db.prepareStatement(
                "SELECT at_us, step, failed, detail, bytes FROM boot_event WHERE session_id = ? ORDER BY seq")) {
            s.setLong(1, sessionId);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    events.add(new BootEvent(instant(r.getLong(1)), mac, Step.fromWire(r.getString(2)),
                            r.getInt(3) != 0, r.getString(4), r.getLong(5)));
                }
            }
        }
        return events;
    }

    // ---------------------------------------------------------------- MachineRepository

    @Override
    public synchronized List<Machine> machines() {
        return read(() -> queryMachines(Optional.empty()));
    }

    @Override
    public synchronized Optional<Machine> machine(MacAddress mac) {
        return read(() -> queryMachines(Optional.of(mac)).stream().findFirst());
    }

    private List<Machine> queryMachines(Optional<MacAddress> mac) throws SQLException {
        Map<String, Map<String, String>> labels = new HashMap<>();
        String labelSql = "SELECT mac, name, label_value FROM machine_label" + (mac.isPresent() ? " WHERE mac = ?" : "")
                + " ORDER BY name";
        try (PreparedStatement s = db.prepareStatement(labelSql)) {
            if (mac.isPresent()) {
                s.setString(1, mac.get().toString());
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    labels.computeIfAbsent(r.getString(1), k -> new LinkedHashMap<>()).put(r.getString(2), r.getString(3));
                }
            }
        }
        List<Machine> out = new ArrayList<>();
        String sql = "SELECT mac, first_seen, last_seen, firmware FROM machine" + (mac.isPresent() ? " WHERE mac = ?" : "")
                + " ORDER BY last_seen DESC, mac";
        try (PreparedStatement s = db.prepareStatement(sql)) {
            if (mac.isPresent()) {
                s.setString(1, mac.get().toString());
            }
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    String m = r.getString(1);
                    out.add(new Machine(MacAddress.parse(m), instant(r.getLong(2)), instant(r.getLong(3)),
                            Optional.ofNullable(r.getString(4)), labels.getOrDefault(m, Map.of())));
                }
            }
        }
        return out;
    }

    @Override
    public synchronized boolean label(MacAddress mac, String name, String value) {
        if (name.isBlank() || name.length() > 100) {
            throw new IllegalArgumentException("label name '" + name + "': must be 1 to 100 characters");
        }
        if (value.length() > 500) {
            throw new IllegalArgumentException("label " + name + ": value longer than 500 characters");
        }
        if (machine(mac).isEmpty()) {
            return false;
        }
        return transaction("cannot label " + mac, () -> {
            try (PreparedStatement d = db.prepareStatement("DELETE FROM machine_label WHERE mac = ? AND name = ?")) {
                d.setString(1, mac.toString());
                d.setString(2, name);
                d.executeUpdate();
            }
            if (!value.isEmpty()) {
                try (PreparedStatement i = db.prepareStatement(
                        "INSERT INTO machine_label (mac, name, label_value) VALUES (?, ?, ?)")) {
                    i.setString(1, mac.toString());
                    i.setString(2, name);
                    i.setString(3, value);
                    i.executeUpdate();
                }
            }
            return true;
        });
    }

    // ---------------------------------------------------------------- Assignments

    @Override
    public synchronized Optional<Assignment> assignment(MacAddress mac) {
        return read(() -> {
            try (PreparedStatement s = db.prepareStatement(
                    "SELECT profile, once, assigned_at FROM machine_assignment WHERE mac = ?")) {
                s.setString(1, mac.toString());
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? Optional.of(new Assignment(mac, r.getString(1), r.getInt(2) != 0,
                            instant(r.getLong(3)))) : Optional.<Assignment>empty();
                }
            }
        });
    }

    @Override
    public synchronized void assign(Assignment a) {
        transaction("cannot assign " + a.mac(), () -> {
            try (PreparedStatement s = db.prepareStatement("""
                INSERT INTO machine_assignment (mac, profile, once, assigned_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (mac) DO UPDATE SET profile = excluded.profile, once = excluded.once,
                  assigned_at = excluded.assigned_at""")) {
            s.setString(1, a.mac().toString());
            s.setString(2, a.profile());
            s.setInt(3, a.once() ? 1 : 0);
                s.setLong(4, micros(a.at()));
                return s.executeUpdate();
            }
        });
    }

    @Override
    public synchronized boolean unassign(MacAddress mac) {
        return transaction("cannot unassign " + mac, () -> {
            try (PreparedStatement s = db.prepareStatement("DELETE FROM machine_assignment WHERE mac = ?")) {
                s.setString(1, mac.toString());
                return s.executeUpdate() > 0;
            }
        });
    }

    // ---------------------------------------------------------------- plumbing

    @FunctionalInterface
    private interface Query<T> {
        T run() throws SQLException;
    }

    /** Reads end their transaction too, so SQLite's WAL is not pinned by an open read snapshot. */
    private <T> T read(Query<T> query) {
        return transaction("cannot read", query);
    }

    /** Runs {@code work} as one transaction: commits it, or rolls it back and fails with {@code failure} and why. */
    private <T> T transaction(String failure, Query<T> work) {
        try {
            T result = work.run();
            db.commit();
            return result;
        } catch (SQLException e) {
            rollbackQuietly();
            throw new StoreException(failure + " in " + where + ": " + e.getMessage(), e);
        }
    }

    private void rollbackQuietly() {
        try {
            db.rollback();
        } catch (SQLException ignored) {
            // the original failure is what the caller needs to see
        }
    }

    static long micros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
    }

    static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000);
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException ignored) {
            // closing at shutdown: every append was committed already
        }
    }
}
