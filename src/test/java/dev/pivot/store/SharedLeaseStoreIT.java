package dev.pivot.store;

import dev.pivot.boot.MacAddress;
import dev.pivot.dhcp.DhcpConfig;
import dev.pivot.dhcp.Lease;
import dev.pivot.dhcp.LeasePool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two servers' lease pools over one PostgreSQL (Debian's, private): the same sequence the DHCP server runs (choose
 * from the copy, commit, send only what the commit did not refuse), for more machines than addresses, both servers
 * at once. No address may be promised to two machines, and a lease written by one server is honoured by the other
 * after it starts again.
 */
class SharedLeaseStoreIT {

    private static final int MACHINES_PER_SERVER = 120;

    @Test
    @Timeout(180)
    void twoServersNeverLeaseOneAddressTwice() throws Exception {
        Path bin = PostgresCluster.requireBinDir();
        try (PostgresCluster pg = PostgresCluster.start(bin)) {
            JdbcStore.open(pg.url(), "pivot", "").close(); // migrates, as pivot serve does first
            DhcpConfig.Pool range = new DhcpConfig.Pool(ip("10.9.0.10"), ip("10.9.0.59"), 24);
            Map<Inet4Address, MacAddress> acked = new ConcurrentHashMap<>();
            List<String> doubles = new CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicInteger refusals = new java.util.concurrent.atomic.AtomicInteger();
            List<Thread> servers = new ArrayList<>();
            List<SharedLeaseStore> stores = new ArrayList<>();
            for (int s = 0; s < 2; s++) {
                SharedLeaseStore store = SharedLeaseStore.open(pg.url(), "pivot", "", "server-" + s,
                        Clock.systemUTC());
                stores.add(store);
                LeasePool pool = new LeasePool(range, ip("10.9.0." + (1 + s)), store, Clock.systemUTC());
                int server = s;
                servers.add(Thread.ofPlatform().start(() -> {
                    for (int m = 0; m < MACHINES_PER_SERVER; m++) {
                        // Machines 0..59 ask both servers (a broadcast DISCOVER), the rest one server each.
                        MacAddress mac = mac(m < 60 ? m : 1000 * (server + 1) + m);
                        Optional<Inet4Address> offered = pool.offer(mac, Optional.empty());
                        if (offered.isEmpty()) {
                            continue;
                        }
                        if (store.commit().contains(offered.get())) {
                            refusals.incrementAndGet();
                            continue;
                        }
                        if (pool.bind(mac, offered.get()).isEmpty()) {
                            continue;
                        }
                        // Both servers run the whole exchange for the shared machines here (a real client
                        // requests from one of them): a machine bound anew by the other server moved, and its
                        // previous address was released by that bind. The bind's commit and the note of who holds
                        // what happen under one lock, so the notes follow the order the database committed in
                        // (otherwise a bind that released an address could be noted after the one that took it).
                        synchronized (acked) {
                            if (store.commit().contains(offered.get())) {
                                continue;
                            }
                            MacAddress before = acked.get(offered.get());
                            if (before != null && !before.equals(mac)) {
                                doubles.add(offered.get().getHostAddress() + " ACKed to " + before + " and " + mac);
                            }
                            acked.values().remove(mac);
                            acked.put(offered.get(), mac);
                        }
                    }
                }));
            }
            for (Thread t : servers) {
                t.join(120_000);
            }
            assertThat(doubles).as("addresses ACKed to two machines").isEmpty();
            assertThat(acked).as("the range is used").hasSizeGreaterThan(40);
            // The race under test happened: both servers chose one address for two machines, the store let one win.
            assertThat(refusals.get()).as("claims the store refused").isPositive();
            System.out.printf("shared leases: %d addresses ACKed, %d claims refused (another server won)%n",
                    acked.size(), refusals.get());

            Map<String, String> table = boundRows(pg.url());
            for (Map.Entry<Inet4Address, MacAddress> a : acked.entrySet()) {
                assertThat(table).containsEntry(a.getKey().getHostAddress(), a.getValue().toString());
            }

            // Server 1 starts again: every lease server 0 wrote is there, and a new machine gets none of them.
            stores.get(1).close();
            try (SharedLeaseStore again = SharedLeaseStore.open(pg.url(), "pivot", "", "server-1",
                    Clock.systemUTC())) {
                LeasePool pool = new LeasePool(range, ip("10.9.0.2"), again, Clock.systemUTC());
                for (Map.Entry<Inet4Address, MacAddress> a : acked.entrySet()) {
                    assertThat(again.byAddress(a.getKey()).map(Lease::mac)).contains(a.getValue());
                }
                Optional<Inet4Address> stranger = pool.offer(mac(99_999), Optional.empty());
                Set<Inet4Address> refused = again.commit();
                stranger.filter(a -> !refused.contains(a))
                        .ifPresent(a -> assertThat(acked).as("offered to a new machine").doesNotContainKey(a));
                // A machine asking the restarted server for the address it holds keeps it.
                Map.Entry<Inet4Address, MacAddress> one = acked.entrySet().iterator().next();
                assertThat(pool.bind(one.getValue(), one.getKey())).isPresent();
                assertThat(again.commit()).doesNotContain(one.getKey());
            }
            stores.get(0).close();
        }
    }

    private static Map<String, String> boundRows(String url) throws Exception {
        Map<String, String> rows = new HashMap<>();
        try (Connection c = DriverManager.getConnection(url, "pivot", "");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT address, mac FROM dhcp_lease WHERE state = 'BOUND'")) {
            while (rs.next()) {
                rows.put(rs.getString(1), rs.getString(2));
            }
        }
        return rows;
    }

    private static MacAddress mac(int n) {
        return MacAddress.parse(String.format("52:54:00:%02x:%02x:%02x", (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff));
    }

    private static Inet4Address ip(String text) throws Exception {
        return (Inet4Address) InetAddress.getByName(text);
    }
}
