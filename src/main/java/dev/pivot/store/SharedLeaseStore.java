package dev.pivot.store;

import dev.pivot.boot.MacAddress;
import dev.pivot.dhcp.InMemoryLeaseStore;
import dev.pivot.dhcp.Lease;
import dev.pivot.dhcp.LeaseStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * DHCP leases in a PostgreSQL database several servers share ({@code --dhcp-leases store}): the table is the
 * authority, each server keeps a copy in memory to choose addresses from.
 *
 * <p>Why this never hands one address to two machines: a server chooses from its copy (which may be a second
 * stale), but no OFFER or ACK leaves before its <em>claim</em> committed — an insert on the address's primary key
 * that, on conflict, only takes over a row that expired or already belongs to the same machine. Two servers that
 * chose the same address for two machines both try; the database lets exactly one through, and the other drops its
 * reply (the client retries and is answered from the row that won, which the loser reads back at once).
 *
 * <p>The protocol thread never waits for the database: it changes the copy and queues the change; the DHCP
 * server's commit thread writes all queued changes in one transaction ({@link #commit}) before it sends the replies
 * that promise them, the way the file journal's group fsync works. Every second the copy catches up with rows the
 * other servers wrote, and every 30 s it is read whole (rows they deleted).
 */
public final class SharedLeaseStore implements LeaseStore, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SharedLeaseStore.class);

    static final long REFRESH_MS = 1000;
    static final long FULL_REFRESH_MS = 30_000;
    /** Rows written this long before the last catch-up are read again: a transaction may commit after others. */
    static final long LATE_COMMIT_MS = 2000;

    /** A conflict takes over the row only when it expired, or is the same machine's (never a bound lease
     * turned back into an offer, and never out of a decline before it expires). Public for the benchmark that
     * compares it with row locks (bench/lease-claims.sh). Parameters: address, mac, state, expires_at, server,
     * updated_at, now. */
    public static final String CLAIM = """
            INSERT INTO dhcp_lease (address, mac, state, expires_at, server, updated_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (address) DO UPDATE SET mac = EXCLUDED.mac, state = EXCLUDED.state,
                expires_at = EXCLUDED.expires_at, server = EXCLUDED.server, updated_at = EXCLUDED.updated_at
            WHERE dhcp_lease.expires_at <= ?
               OR (dhcp_lease.mac = EXCLUDED.mac AND dhcp_lease.state <> 'DECLINED'
                   AND NOT (dhcp_lease.state = 'BOUND' AND EXCLUDED.state = 'OFFERED'))""";
    /**
     * Removes exactly the lease this server knew: not one another server has made of the row since. Never waits:
     * a row another server's transaction holds is being changed by it anyway, and a delete that waited on it while
     * that transaction waited on one of ours would deadlock (PostgreSQL breaks that only after a second).
     */
    private static final String DROP = "DELETE FROM dhcp_lease WHERE address IN (SELECT address FROM dhcp_lease"
            + " WHERE address = ? AND mac = ? AND state = ? FOR UPDATE SKIP LOCKED)";
    /** A machine holds one lease: a bound one ends its others, an offer only its other offers (never waiting, as
     * above; a row skipped now expires or goes with the machine's next claim). */
    private static final String OTHERS_OF_MAC = "DELETE FROM dhcp_lease WHERE address IN (SELECT address FROM"
            + " dhcp_lease WHERE mac = ? AND address <> ? AND state IN ('OFFERED', ?) FOR UPDATE SKIP LOCKED)";
    private static final String COLUMNS = "SELECT address, mac, state, expires_at FROM dhcp_lease";

    private sealed interface Change {
        Lease lease();
    }

    private record Claim(Lease lease) implements Change {
    }

    private record Drop(Lease lease) implements Change {
    }

    private final Connections db;
    private final String server;
    private final Clock clock;
    private final Object lock = new Object();
    private final InMemoryLeaseStore copy = new InMemoryLeaseStore();
    /** What the table holds as far as this server knows: rows read, and its own changes once committed (guarded
     * by {@link #lock}); the copy differs from it by the changes not written yet. */
    private final Map<Inet4Address, Lease> durable = new java.util.HashMap<>();
    /** The last change of each address not yet written (guarded by {@link #lock}). */
    private Map<Inet4Address, Change> pending = new LinkedHashMap<>();
    private long lastRefresh;
    private long lastFullRefresh;

    private SharedLeaseStore(Connections db, String server, Clock clock) {
        this.db = db;
        this.server = server;
        this.clock = clock;
    }

    /**
     * Connects to the (already migrated, by {@link JdbcStore#open}) database and reads every lease in it.
     *
     * @param server this server's name, written with each lease it claims
     */
    public static SharedLeaseStore open(String url, String user, String password, String server, Clock clock) {
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new StoreException("--dhcp-leases store: " + JdbcStore.withoutQuery(url)
                    + " is not PostgreSQL; servers share leases only in a jdbc:postgresql: database", null);
        }
        Connections db = new Connections(JdbcStore.withoutQuery(url), Connections.postgres(url, user, password));
        SharedLeaseStore store = new SharedLeaseStore(db, server, clock);
        store.refresh(true);
        return store;
    }

    @Override
    public Optional<Lease> byMac(MacAddress mac) {
        synchronized (lock) {
            return copy.byMac(mac);
        }
    }

    /**
     * The machine holding a bound, unexpired lease on {@code address}, from the copy or else from the table (a
     * lease another server gave since the last refresh); empty when none or when the database cannot be read.
     */
    public Optional<MacAddress> holderOf(Inet4Address address) {
        java.time.Instant now = clock.instant();
        java.util.function.Predicate<Lease> held = l -> l.state() == Lease.State.BOUND && l.expires().isAfter(now);
        Optional<Lease> known = byAddress(address).filter(held);
        if (known.isPresent()) {
            return known.map(Lease::mac);
        }
        try {
            return db.run("cannot read a DHCP lease", c -> {
                try (PreparedStatement q = c.prepareStatement(COLUMNS + " WHERE address = ?")) {
                    q.setString(1, address.getHostAddress());
                    return leases(q);
                }
            }).stream().filter(held).findFirst().map(Lease::mac);
        } catch (StoreException e) {
            log.debug("looking up the lease of {}: {}", address.getHostAddress(), e.getMessage());
            return Optional.empty();
        }
    }

    @Override
    public Optional<Lease> byAddress(Inet4Address address) {
        synchronized (lock) {
            return copy.byAddress(address);
        }
    }

    @Override
    public void put(Lease lease) {
        synchronized (lock) {
            if (lease.state() != Lease.State.DECLINED) {
                copy.byMac(lease.mac()).filter(old -> !old.address().equals(lease.address()))
                        .ifPresent(old -> pending.put(old.address(), new Drop(old)));
            }
            copy.put(lease);
            pending.put(lease.address(), new Claim(lease));
        }
    }

    @Override
    public void remove(Inet4Address address) {
        synchronized (lock) {
            copy.byAddress(address).ifPresent(old -> {
                copy.remove(address);
                pending.put(address, new Drop(old));
            });
        }
    }

    @Override
    public List<Lease> all() {
        synchronized (lock) {
            return copy.all();
        }
    }

    @Override
    public void sync() {
        commit();
    }

    @Override
    public Set<Inet4Address> commit() {
        Map<Inet4Address, Change> batch;
        synchronized (lock) {
            batch = pending;
            pending = new LinkedHashMap<>();
        }
        Set<Inet4Address> refused = Set.of();
        if (!batch.isEmpty()) {
            // In address order: every server locks rows in one order, so two commits do not deadlock.
            List<Change> sorted = new ArrayList<>(batch.values());
            sorted.sort(java.util.Comparator.comparingLong(ch -> Integer.toUnsignedLong(
                    java.nio.ByteBuffer.wrap(ch.lease().address().getAddress()).getInt())));
            try {
                refused = writeRetryingConflicts(sorted);
            } catch (RuntimeException e) {
                synchronized (lock) {
                    // Not written: kept for the next commit, unless the address changed again since.
                    batch.forEach(pending::putIfAbsent);
                }
                throw e;
            }
            synchronized (lock) {
                for (Change change : sorted) {
                    Lease l = change.lease();
                    if (refused.contains(l.address())) {
                        continue;
                    }
                    if (change instanceof Claim) {
                        durable.put(l.address(), l);
                    } else if (durable.get(l.address()) instanceof Lease held && held.mac().equals(l.mac())) {
                        durable.remove(l.address());
                    }
                }
            }
            if (!refused.isEmpty()) {
                readBack(refused);
            }
        }
        if (clock.millis() - lastRefresh >= REFRESH_MS) {
            refreshQuietly();
        }
        return refused;
    }

    @Override
    public boolean shared() {
        return true;
    }

    @Override
    public Optional<Lease> durable(Inet4Address address) {
        synchronized (lock) {
            return Optional.ofNullable(durable.get(address));
        }
    }

    @Override
    public void idle() {
        commit();
    }

    /** A deadlock or serialization failure aborts the whole transaction but says nothing about the leases: the
     * same changes are tried again at once (twice at most) before the batch counts as failed. */
    private Set<Inet4Address> writeRetryingConflicts(List<Change> changes) {
        for (int attempt = 0; ; attempt++) {
            try {
                return db.run("cannot store DHCP leases", c -> write(c, changes));
            } catch (StoreException e) {
                String state = e.getCause() instanceof SQLException sql ? sql.getSQLState() : null;
                boolean conflict = "40P01".equals(state) || "40001".equals(state);
                if (!conflict || attempt >= 2) {
                    throw e;
                }
                log.debug("DHCP: lease commit retried after {}", state);
            }
        }
    }

    private Set<Inet4Address> write(Connection c, java.util.Collection<Change> changes) throws SQLException {
        long now = clock.millis();
        List<Lease> claims = new ArrayList<>();
        try (PreparedStatement drop = c.prepareStatement(DROP)) {
            int drops = 0;
            for (Change change : changes) {
                if (change instanceof Drop(Lease l)) {
                    drop.setString(1, l.address().getHostAddress());
                    drop.setString(2, l.mac().toString());
                    drop.setString(3, l.state().name());
                    drop.addBatch();
                    drops++;
                } else {
                    claims.add(change.lease());
                }
            }
            if (drops > 0) {
                drop.executeBatch();
            }
        }
        Set<Inet4Address> refused = new HashSet<>();
        if (claims.isEmpty()) {
            return refused;
        }
        try (PreparedStatement claim = c.prepareStatement(CLAIM)) {
            for (Lease l : claims) {
                claim.setString(1, l.address().getHostAddress());
                claim.setString(2, l.mac().toString());
                claim.setString(3, l.state().name());
                claim.setLong(4, l.expires().toEpochMilli());
                claim.setString(5, server);
                claim.setLong(6, now);
                claim.setLong(7, now);
                claim.addBatch();
            }
            int[] counts = claim.executeBatch();
            for (int i = 0; i < counts.length; i++) {
                if (counts[i] == 0) {
                    refused.add(claims.get(i).address());
                }
            }
        }
        try (PreparedStatement others = c.prepareStatement(OTHERS_OF_MAC)) {
            int n = 0;
            for (Lease l : claims) {
                if (l.state() != Lease.State.DECLINED && !refused.contains(l.address())) {
                    others.setString(1, l.mac().toString());
                    others.setString(2, l.address().getHostAddress());
                    others.setString(3, l.state() == Lease.State.BOUND ? "BOUND" : "OFFERED");
                    others.addBatch();
                    n++;
                }
            }
            if (n > 0) {
                others.executeBatch();
            }
        }
        return refused;
    }

    /** The rows that refused our claims, into the copy: the next choice for those machines starts from them. */
    private void readBack(Set<Inet4Address> addresses) {
        List<String> wanted = addresses.stream().map(InetAddress::getHostAddress).toList();
        List<Lease> rows;
        try {
            rows = db.run("cannot read DHCP leases", c -> {
                try (PreparedStatement q = c.prepareStatement(COLUMNS + " WHERE address = ANY (?)")) {
                    q.setArray(1, c.createArrayOf("varchar", wanted.toArray()));
                    return leases(q);
                }
            });
        } catch (StoreException e) {
            log.debug("reading back refused leases: {}", e.getMessage());
            return;
        }
        synchronized (lock) {
            for (Inet4Address a : addresses) {
                durable.remove(a);
                if (!pending.containsKey(a)) {
                    copy.remove(a);
                }
            }
            rows.forEach(l -> durable.put(l.address(), l));
            rows.stream().filter(l -> !pending.containsKey(l.address())).forEach(copy::put);
        }
    }

    private void refreshQuietly() {
        try {
            refresh(clock.millis() - lastFullRefresh >= FULL_REFRESH_MS);
        } catch (StoreException e) {
            lastRefresh = clock.millis(); // not again before the next interval: the log says it once per try
            log.warn("DHCP: cannot read the shared leases: {}", e.getMessage());
        }
    }

    /** Catches up with the other servers: rows changed lately, or (full) every row, dropping what is gone. */
    private void refresh(boolean full) {
        long now = clock.millis();
        long since = full ? Long.MIN_VALUE : lastRefresh - LATE_COMMIT_MS;
        List<Lease> rows = db.run("cannot read DHCP leases", c -> {
            // Catching up reads the others' rows only: this server's own are in the copy already.
            try (PreparedStatement q = c.prepareStatement(full ? COLUMNS
                    : COLUMNS + " WHERE updated_at >= ? AND server <> ?")) {
                if (!full) {
                    q.setLong(1, since);
                    q.setString(2, server);
                }
                return leases(q);
            }
        });
        synchronized (lock) {
            if (full) {
                Set<Inet4Address> present = new HashSet<>();
                rows.forEach(l -> present.add(l.address()));
                durable.keySet().retainAll(present);
                for (Lease l : copy.all()) {
                    if (!present.contains(l.address()) && !pending.containsKey(l.address())) {
                        copy.remove(l.address());
                    }
                }
            }
            rows.forEach(l -> durable.put(l.address(), l));
            rows.stream().filter(l -> !pending.containsKey(l.address())).forEach(copy::put);
        }
        lastRefresh = now;
        if (full) {
            lastFullRefresh = now;
        }
    }

    private static List<Lease> leases(PreparedStatement q) throws SQLException {
        List<Lease> out = new ArrayList<>();
        try (ResultSet rs = q.executeQuery()) {
            while (rs.next()) {
                try {
                    out.add(new Lease((Inet4Address) InetAddress.getByName(rs.getString(1)),
                            MacAddress.parse(rs.getString(2)), Instant.ofEpochMilli(rs.getLong(4)),
                            Lease.State.valueOf(rs.getString(3))));
                } catch (UnknownHostException | RuntimeException e) {
                    log.warn("DHCP: skipped a lease row for {}: {}", rs.getString(1), e.getMessage());
                }
            }
        }
        return out;
    }

    @Override
    public void close() {
        db.close();
    }
}
