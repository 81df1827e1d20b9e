package dev.pivot.store;

import dev.pivot.boot.Assignments;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.Firmware;
import dev.pivot.boot.Generation;
import dev.pivot.boot.GenerationStore;
import dev.pivot.boot.ProfileGenerations;
import dev.pivot.boot.Step;
import dev.pivot.history.BootSession;
import dev.pivot.history.EventLog;
import dev.pivot.boot.Machine;
import dev.pivot.boot.MachineRepository;
import dev.pivot.boot.MacAddress;
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
 * The event log and machine inventory in SQL that SQLite and PostgreSQL both run. Two connections: one writes
 * (the event pipeline's single writer, labels and assignments), one reads (the API, the catalog), each under its
 * own lock, so a read never waits behind a write's fsync. A connection that fails is closed and opened again on
 * its next use, so the store recovers by itself once the cause (a full disk, a restarted database) is gone.
 */
public final class JdbcStore implements EventLog, MachineRepository, Assignments, GenerationStore, AutoCloseable {

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    private final Connections writes;
    private final Connections reads;
    /** The name written with each session this server records, when servers share the store. */
    private volatile String server;

    private JdbcStore(Connections writes, Connections reads) {
        this.writes = writes;
        this.reads = reads;
    }

    /** Names this server on every boot session it records from now on (servers sharing one database). */
    public void recordAs(String serverName) {
        this.server = serverName;
    }

    /**
     * Opens (creating and migrating) a SQLite database file. WAL lets the API read while events are written;
     * synchronous=FULL makes each commit reach the disk before it returns.
     */
    public static JdbcStore openSqlite(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
        } catch (java.io.IOException e) {
            throw new StoreException("cannot create the directory of " + file + ": " + e.getMessage(), e);
        }
        String url = "jdbc:sqlite:" + file.toAbsolutePath();
        Connections.Opener opener = () -> {
            Connection c = DriverManager.getConnection(url);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("PRAGMA foreign_keys=ON");
            }
            c.setAutoCommit(false);
            return c;
        };
        return opened(url, null, null, file.toString(), opener);
    }

    /**
     * Opens a database by JDBC URL (e.g. jdbc:postgresql://host:port/db) and migrates it; user and password may be
     * null when the URL carries them.
     */
    public static JdbcStore open(String url, String user, String password) {
        if (!url.startsWith("jdbc:postgresql:") && !url.startsWith("jdbc:sqlite:")) {
            throw new StoreException("database " + withoutQuery(url) + ": expected a jdbc:postgresql: or jdbc:sqlite: URL",
                    null);
        }
        Connections.Opener opener = () -> {
            Connection c = DriverManager.getConnection(url, user, password);
            c.setAutoCommit(false);
            return c;
        };
        return opened(url, user, password, withoutQuery(url), opener);
    }

    private static JdbcStore opened(String url, String user, String password, String where, Connections.Opener opener) {
        migrate(url, user, password, where);
        Connections writes = new Connections(where, opener);
        Connections reads = new Connections(where, opener);
        writes.run("cannot open the database", c -> null);
        return new JdbcStore(writes, reads);
    }

    /**
     * The URL as error messages and logs may show it: without its query, which may carry a password (and the
     * driver's own messages are not quoted back either way).
     */
    static String withoutQuery(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q) + "?…";
    }

    private static void migrate(String url, String user, String password, String where) {
        try {
            Flyway.configure().dataSource(url, user, password).locations("classpath:db/migration")
                    .loggers("slf4j").load().migrate();
        } catch (RuntimeException e) {
            throw new StoreException("cannot migrate the database " + where + ": " + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- EventLog

    @Override
    public void append(List<Entry> batch) {
        if (batch.isEmpty()) {
            return;
        }
        Entry lastOne = batch.getLast();
        writes.run("cannot record " + batch.size() + " events (last " + lastOne.event().mac() + " "
                + lastOne.event().step().wire() + ")", db -> {
            upsertMachines(db, batch);
            try (PreparedStatement s = db.prepareStatement(
                    "INSERT INTO boot_session (id, mac, started, server) VALUES (?, ?, ?, ?)"
                            + " ON CONFLICT (id) DO NOTHING")) {
                Map<Long, Entry> firstOfSession = new LinkedHashMap<>();
                batch.forEach(e -> firstOfSession.putIfAbsent(e.sessionId(), e));
                for (Entry e : firstOfSession.values()) {
                    s.setLong(1, e.sessionId());
                    s.setString(2, e.event().mac().toString());
                    s.setLong(3, micros(e.event().at()));
                    s.setString(4, server);
                    s.addBatch();
                }
                s.executeBatch();
            }
            try (PreparedStatement s = db.prepareStatement("""
                    INSERT INTO boot_event (session_id, seq, at_us, step, failed, detail, bytes, firmware, address,
                                            file_name, dhcp)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, seq) DO NOTHING""")) {
                for (Entry entry : batch) {
                    BootEvent e = entry.event();
                    s.setLong(1, entry.sessionId());
                    s.setInt(2, entry.seq());
                    s.setLong(3, micros(e.at()));
                    s.setString(4, e.step().wire());
                    s.setInt(5, e.failed() ? 1 : 0);
                    s.setString(6, e.detail());
                    s.setLong(7, e.bytes());
                    s.setString(8, e.firmware().map(Firmware::wire).orElse(null));
                    s.setString(9, e.address().orElse(null));
                    s.setString(10, e.file().orElse(null));
                    s.setString(11, e.dhcp().map(BootEvent.DhcpAnswer::wire).orElse(null));
                    s.addBatch();
                }
                s.executeBatch();
            }
            return null;
        });
    }

    /**
     * One write per machine in the batch: a machine that got past DHCP in it gets its record (first seen at its first
     * session, the firmware its newest event revealed, else the newest any of its events did); a machine seen only
     * in DHCP updates the record it has, if any, and otherwise gets none (a DISCOVER flood of made-up MACs).
     */
    private static void upsertMachines(Connection db, List<Entry> batch) throws SQLException {
        record Seen(Instant first, Instant last, Optional<Firmware> firmware, boolean pastDhcp) {
        }
        // In MAC order: servers sharing the database upsert the same machines, and rows locked in one order by
        // every writer cannot deadlock.
        Map<MacAddress, Seen> seen = new java.util.TreeMap<>(java.util.Comparator.comparing(MacAddress::toString));
        for (Entry entry : batch) {
            BootEvent e = entry.event();
            seen.merge(e.mac(), new Seen(e.at(), e.at(), e.firmware(), e.step().pastDhcp()), (a, b) -> new Seen(
                    a.first().isBefore(b.first()) ? a.first() : b.first(),
                    a.last().isAfter(b.last()) ? a.last() : b.last(),
                    b.firmware().or(a::firmware), a.pastDhcp() || b.pastDhcp()));
        }
        try (PreparedStatement upsert = db.prepareStatement("""
                INSERT INTO machine (mac, first_seen, last_seen, firmware) VALUES (?,
                  COALESCE((SELECT MIN(started) FROM boot_session WHERE mac = ?), ?), ?,
                  COALESCE(?, (SELECT e.firmware FROM boot_event e JOIN boot_session s ON s.id = e.session_id
                               WHERE s.mac = ? AND e.firmware IS NOT NULL ORDER BY s.id DESC, e.seq DESC LIMIT 1)))
                ON CONFLICT (mac) DO UPDATE SET
                  last_seen = CASE WHEN excluded.last_seen > machine.last_seen
                                   THEN excluded.last_seen ELSE machine.last_seen END,
                  firmware = COALESCE(excluded.firmware, machine.firmware)""");
             PreparedStatement update = db.prepareStatement("""
                UPDATE machine SET
                  last_seen = CASE WHEN ? > last_seen THEN ? ELSE last_seen END,
                  firmware = COALESCE(?, firmware)
                WHERE mac = ?""")) {
            for (Map.Entry<MacAddress, Seen> m : seen.entrySet()) {
                String mac = m.getKey().toString();
                String firmware = m.getValue().firmware().map(Firmware::wire).orElse(null);
                long last = micros(m.getValue().last());
                if (m.getValue().pastDhcp()) {
                    upsert.setString(1, mac);
                    upsert.setString(2, mac);
                    upsert.setLong(3, micros(m.getValue().first()));
                    upsert.setLong(4, last);
                    upsert.setString(5, firmware);
                    upsert.setString(6, mac);
                    upsert.addBatch();
                } else {
                    update.setLong(1, last);
                    update.setLong(2, last);
                    update.setString(3, firmware);
                    update.setString(4, mac);
                    update.addBatch();
                }
            }
            upsert.executeBatch();
            update.executeBatch();
        }
    }

    @Override
    public long lastSessionId() {
        return reads.run("cannot read", db -> {
            try (Statement s = db.createStatement();
                 ResultSet r = s.executeQuery("SELECT COALESCE(MAX(id), 0) FROM boot_session")) {
                r.next();
                return r.getLong(1);
            }
        });
    }

    @Override
    public List<BootSession> sessions(Optional<MacAddress> mac, int limit) {
        return sessions(mac, 0, limit);
    }

    @Override
    public List<BootSession> sessions(Optional<MacAddress> mac, int offset, int limit) {
        return reads.run("cannot read", db -> {
            record Row(long id, MacAddress mac, String server) {
            }
            List<Row> rows = new ArrayList<>();
            String sql = "SELECT id, mac, server FROM boot_session" + (mac.isPresent() ? " WHERE mac = ?" : "")
                    + " ORDER BY id DESC LIMIT ? OFFSET ?";
            try (PreparedStatement s = db.prepareStatement(sql)) {
                int i = 1;
                if (mac.isPresent()) {
                    s.setString(i++, mac.get().toString());
                }
                s.setInt(i++, Math.max(0, limit));
                s.setInt(i, Math.max(0, offset));
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        rows.add(new Row(r.getLong(1), MacAddress.parse(r.getString(2)), r.getString(3)));
                    }
                }
            }
            List<BootSession> out = new ArrayList<>();
            for (Row row : rows) {
                out.add(new BootSession(row.id(), row.mac(), events(db, row.id(), row.mac()),
                        Optional.ofNullable(row.server())));
            }
            return out;
        });
    }

    @Override
    public Optional<BootSession> session(long id) {
        return reads.run("cannot read", db -> {
            try (PreparedStatement s = db.prepareStatement("SELECT mac, server FROM boot_session WHERE id = ?")) {
                s.setLong(1, id);
                try (ResultSet r = s.executeQuery()) {
                    if (!r.next()) {
                        return Optional.<BootSession>empty();
                    }
                    MacAddress mac = MacAddress.parse(r.getString(1));
                    Optional<String> server = Optional.ofNullable(r.getString(2));
                    return Optional.of(new BootSession(id, mac, events(db, id, mac), server));
                }
            }
        });
    }

    private static List<BootEvent> events(Connection db, long sessionId, MacAddress mac) throws SQLException {
        List<BootEvent> events = new ArrayList<>();
        try (PreparedStatement s = db.prepareStatement("""
                SELECT at_us, step, failed, detail, bytes, firmware, address, file_name, dhcp
                FROM boot_event WHERE session_id = ? ORDER BY seq""")) {
            s.setLong(1, sessionId);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    events.add(new BootEvent(instant(r.getLong(1)), mac, Step.fromWire(r.getString(2)),
                            r.getInt(3) != 0, r.getString(4), r.getLong(5),
                            Optional.ofNullable(r.getString(6)).flatMap(Firmware::fromWire),
                            Optional.ofNullable(r.getString(7)), Optional.ofNullable(r.getString(8)),
                            Optional.ofNullable(r.getString(9)).flatMap(BootEvent.DhcpAnswer::fromWire)));
                }
            }
        }
        return events;
    }

    // ---------------------------------------------------------------- MachineRepository

    @Override
    public List<Machine> machines() {
        return reads.run("cannot read", db -> queryMachines(db, Optional.empty()));
    }

    @Override
    public List<Machine> machines(int offset, int limit) {
        return reads.run("cannot read", db -> queryMachines(db, Optional.empty(), offset, limit));
    }

    @Override
    public Optional<Machine> machine(MacAddress mac) {
        return reads.run("cannot read", db -> queryMachines(db, Optional.of(mac)).stream().findFirst());
    }

    private static List<Machine> queryMachines(Connection db, Optional<MacAddress> mac) throws SQLException {
        return queryMachines(db, mac, 0, Integer.MAX_VALUE);
    }

    private static List<Machine> queryMachines(Connection db, Optional<MacAddress> mac, int offset, int limit)
            throws SQLException {
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
                + " ORDER BY last_seen DESC, mac LIMIT ? OFFSET ?";
        try (PreparedStatement s = db.prepareStatement(sql)) {
            int i = 1;
            if (mac.isPresent()) {
                s.setString(i++, mac.get().toString());
            }
            s.setLong(i++, limit);
            s.setLong(i, offset);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    String m = r.getString(1);
                    out.add(new Machine(MacAddress.parse(m), instant(r.getLong(2)), instant(r.getLong(3)),
                            Optional.ofNullable(r.getString(4)).flatMap(Firmware::fromWire),
                            labels.getOrDefault(m, Map.of())));
                }
            }
        }
        return out;
    }

    @Override
    public boolean label(MacAddress mac, String name, String value) {
        if (name.isBlank() || name.length() > 100) {
            throw new IllegalArgumentException("label name '" + name + "': must be 1 to 100 characters");
        }
        if (value.length() > 500) {
            throw new IllegalArgumentException("label " + name + ": value longer than 500 characters");
        }
        if (machine(mac).isEmpty()) {
            return false;
        }
        return writes.run("cannot label " + mac, db -> {
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
    public Optional<Assignment> assignment(MacAddress mac) {
        return reads.run("cannot read", db -> {
            try (PreparedStatement s = db.prepareStatement(
                    "SELECT mac, profile, once, assigned_at, generation FROM machine_assignment WHERE mac = ?")) {
                s.setString(1, mac.toString());
                try (ResultSet r = s.executeQuery()) {
                    return r.next() ? Optional.of(assignmentRow(r)) : Optional.<Assignment>empty();
                }
            }
        });
    }

    @Override
    public List<Assignment> all() {
        return reads.run("cannot read", db -> {
            List<Assignment> out = new ArrayList<>();
            try (PreparedStatement s = db.prepareStatement(
                    "SELECT mac, profile, once, assigned_at, generation FROM machine_assignment ORDER BY mac");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    out.add(assignmentRow(r));
                }
            }
            return out;
        });
    }

    private static Assignment assignmentRow(ResultSet r) throws SQLException {
        int generation = r.getInt(5);
        java.util.OptionalInt n = r.wasNull() ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(generation);
        return new Assignment(MacAddress.parse(r.getString(1)), r.getString(2), r.getInt(3) != 0,
                instant(r.getLong(4)), n);
    }

    @Override
    public void assign(Assignment a) {
        writes.run("cannot assign " + a.mac(), db -> {
            try (PreparedStatement s = db.prepareStatement("""
                INSERT INTO machine_assignment (mac, profile, once, assigned_at, generation) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (mac) DO UPDATE SET profile = excluded.profile, once = excluded.once,
                  assigned_at = excluded.assigned_at, generation = excluded.generation""")) {
                s.setString(1, a.mac().toString());
                s.setString(2, a.profile());
                s.setInt(3, a.once() ? 1 : 0);
                s.setLong(4, micros(a.at()));
                if (a.generation().isPresent()) {
                    s.setInt(5, a.generation().getAsInt());
                } else {
                    s.setNull(5, java.sql.Types.INTEGER);
                }
                return s.executeUpdate();
            }
        });
    }

    @Override
    public boolean unassign(MacAddress mac) {
        return writes.run("cannot unassign " + mac, db -> {
            try (PreparedStatement s = db.prepareStatement("DELETE FROM machine_assignment WHERE mac = ?")) {
                s.setString(1, mac.toString());
                return s.executeUpdate() > 0;
            }
        });
    }

    // ---------------------------------------------------------------- GenerationStore

    @Override
    public Optional<ProfileGenerations> generations(String profile) {
        return reads.run("cannot read the generations of " + profile, db -> {
            List<Generation> all = new ArrayList<>();
            try (PreparedStatement s = db.prepareStatement("""
                    SELECT number, spec, version, built_at, imported_at, source FROM profile_generation
                    WHERE profile = ? ORDER BY number DESC""")) {
                s.setString(1, profile);
                try (ResultSet r = s.executeQuery()) {
                    while (r.next()) {
                        all.add(new Generation(r.getInt(1), spec(profile, r.getInt(1), r.getString(2)),
                                r.getString(3), instant(r.getLong(4)), instant(r.getLong(5)), r.getString(6)));
                    }
                }
            }
            if (all.isEmpty()) {
                return Optional.<ProfileGenerations>empty();
            }
            java.util.OptionalInt pinned = java.util.OptionalInt.empty();
            try (PreparedStatement s = db.prepareStatement(
                    "SELECT generation FROM profile_default WHERE profile = ?")) {
                s.setString(1, profile);
                try (ResultSet r = s.executeQuery()) {
                    if (r.next()) {
                        pinned = java.util.OptionalInt.of(r.getInt(1));
                    }
                }
            }
            return Optional.of(new ProfileGenerations(profile, all, pinned));
        });
    }

    private static BootSpec spec(String profile, int number, String json) {
        try {
            return JSON.readValue(json, StoredSpec.class).spec();
        } catch (java.io.IOException e) {
            throw new StoreException("generation " + number + " of " + profile + ": unreadable spec: "
                    + e.getMessage(), e);
        }
    }

    @Override
    public boolean addGeneration(String profile, Generation g) {
        String spec;
        try {
            spec = JSON.writeValueAsString(StoredSpec.of(g.spec()));
        } catch (java.io.IOException e) {
            throw new StoreException("generation " + g.number() + " of " + profile + ": " + e.getMessage(), e);
        }
        return writes.run("cannot store generation " + g.number() + " of " + profile, db -> {
            try (PreparedStatement s = db.prepareStatement("""
                    INSERT INTO profile_generation (profile, number, spec, version, built_at, imported_at, source)
                    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (profile, number) DO NOTHING""")) {
                s.setString(1, profile);
                s.setInt(2, g.number());
                s.setString(3, spec);
                s.setString(4, g.version());
                s.setLong(5, micros(g.built()));
                s.setLong(6, micros(g.imported()));
                s.setString(7, g.source());
                return s.executeUpdate() == 1;
            }
        });
    }

    /**
     * The boot key of the servers sharing this database: the stored one, or {@code proposed} (this server's own) when
     * none is stored yet, which this call stores. Two servers starting at once store one key, and both get it.
     */
    public byte[] sharedBootKey(byte[] proposed, Instant now) {
        return writes.run("cannot read or store the servers' boot key", db -> {
            try (PreparedStatement s = db.prepareStatement(
                    "INSERT INTO boot_key (id, key_hex, created_at) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING")) {
                s.setString(1, java.util.HexFormat.of().formatHex(proposed));
                s.setLong(2, micros(now));
                s.executeUpdate();
            }
            try (PreparedStatement q = db.prepareStatement("SELECT key_hex FROM boot_key WHERE id = 1");
                 ResultSet rs = q.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("no boot key after storing one");
                }
                return java.util.HexFormat.of().parseHex(rs.getString(1));
            }
        });
    }

    @Override
    public void removeGenerations(String profile, List<Integer> numbers) {
        writes.run("cannot prune generations of " + profile, db -> {
            try (PreparedStatement s = db.prepareStatement(
                    "DELETE FROM profile_generation WHERE profile = ? AND number = ?")) {
                for (int n : numbers) {
                    s.setString(1, profile);
                    s.setInt(2, n);
                    s.addBatch();
                }
                s.executeBatch();
            }
            return null;
        });
    }

    @Override
    public void pinDefault(String profile, java.util.OptionalInt generation) {
        writes.run("cannot set the default generation of " + profile, db -> {
            try (PreparedStatement d = db.prepareStatement("DELETE FROM profile_default WHERE profile = ?")) {
                d.setString(1, profile);
                d.executeUpdate();
            }
            if (generation.isPresent()) {
                try (PreparedStatement i = db.prepareStatement(
                        "INSERT INTO profile_default (profile, generation) VALUES (?, ?)")) {
                    i.setString(1, profile);
                    i.setInt(2, generation.getAsInt());
                    i.executeUpdate();
                }
            }
            return null;
        });
    }

    @Override
    public void recordRunning(Running running) {
        writes.run("cannot record the generation " + running.mac() + " runs", db -> {
            try (PreparedStatement s = db.prepareStatement("""
                    INSERT INTO machine_generation (mac, profile, generation, booted_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (mac) DO UPDATE SET profile = excluded.profile, generation = excluded.generation,
                      booted_at = excluded.booted_at""")) {
                s.setString(1, running.mac().toString());
                s.setString(2, running.profile());
                s.setInt(3, running.generation());
                s.setLong(4, micros(running.at()));
                return s.executeUpdate();
            }
        });
    }

    @Override
    public Map<MacAddress, Running> running() {
        return reads.run("cannot read", db -> {
            Map<MacAddress, Running> out = new LinkedHashMap<>();
            try (PreparedStatement s = db.prepareStatement(
                    "SELECT mac, profile, generation, booted_at FROM machine_generation ORDER BY mac");
                 ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    MacAddress mac = MacAddress.parse(r.getString(1));
                    out.put(mac, new Running(mac, r.getString(2), r.getInt(3), instant(r.getLong(4))));
                }
            }
            return out;
        });
    }

    // ---------------------------------------------------------------- plumbing

    static long micros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
    }

    static Instant instant(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000);
    }

    @Override
    public void close() {
        writes.close();
        reads.close();
    }
}
