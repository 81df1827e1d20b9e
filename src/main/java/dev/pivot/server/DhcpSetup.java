package dev.pivot.server;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.EventSink;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.boot.ProfileLoader;
import dev.pivot.boot.Refusals;
import dev.pivot.dhcp.DhcpConfig;
import dev.pivot.dhcp.DhcpServer;
import dev.pivot.dhcp.FileLeaseStore;
import dev.pivot.dhcp.LeaseStore;
import dev.pivot.dhcp.OfferGuard;
import dev.pivot.store.JdbcStore;
import dev.pivot.store.SharedLeaseStore;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The DHCP part of a {@link ServerConfig}, checked: the mode, the range and the router, or no DHCP at all; and the
 * DHCP server started from it.
 */
final class DhcpSetup {

    /** How long a DHCP answer waits for a store read before it goes out with what is known without it. */
    static final Duration STORE_BUDGET = Duration.ofMillis(50);
    /** How long a read's result answers DHCP for that machine (a new assignment reaches DHCP within this). */
    static final Duration STORE_FRESH = Duration.ofSeconds(1);
    static final int STORE_KEPT = 10_000, STORE_READS = 8;

    private DhcpSetup() {
    }

    /**
     * Starts the DHCP server when the config serves DHCP, and with it the IPv6 router advertiser (unless switched
     * off); adds what it starts to {@code running}.
     */
    static void start(ServerConfig config, PivotServer.Endpoint where, int httpPort, BootPolicy.Loaders loaders,
                      ProfileCatalog catalog, JdbcStore store, AddressBook addresses, EventSink events,
                      Refusals refusals, List<AutoCloseable> running) throws IOException {
        Optional<DhcpConfig> dhcp = config(config, where, httpPort);
        if (dhcp.isEmpty()) {
            return;
        }
        // Leases live in the state directory so a restart (or kill -9) keeps every address handed out.
        // Or, with --dhcp-leases store, in the PostgreSQL database every server on the range shares.
        LeaseStore leases;
        if (config.cluster().leases() == ServerConfig.DhcpLeases.STORE) {
            SharedLeaseStore shared = SharedLeaseStore.open(config.database().orElseThrow(), null, null,
                    PivotServer.serverName(config), Clock.systemUTC());
            running.add(shared);
            leases = shared;
            addresses.elsewhere(a -> a instanceof Inet4Address v4 ? shared.holderOf(v4) : Optional.empty());
        } else {
            leases = new FileLeaseStore(config.state().resolve("dhcp-leases"));
        }
        // DHCP answers never wait long for the store (an assignment, a machine's labels or record).
        WithinBudget<MacAddress, Optional<ProfileLoader>> loader = new WithinBudget<>(catalog::loader,
                catalog::loaderWithoutStore, catalog::routingVersion, STORE_BUDGET, STORE_FRESH, STORE_KEPT,
                STORE_READS);
        running.add(loader);
        WithinBudget<MacAddress, Boolean> known = new WithinBudget<>(mac -> knownMachine(mac, catalog, store),
                mac -> knownWithoutStore(mac, catalog), catalog::routingVersion, STORE_BUDGET, STORE_FRESH,
                STORE_KEPT, STORE_READS);
        running.add(known);
        ServerConfig.Limits limits = config.limits();
        DhcpServer server = new DhcpServer(dhcp.get().withIpxeUpgrade(config.ipxeUpgrade()),
                new BootPolicy(loaders, loader::get), addresses, events, leases, refusals,
                new OfferGuard(limits.dhcpOffers(), known::get, refusals));
        server.start();
        running.add(server);
        if (config.ipv6Ra()) {
            Ipv6Setup.routerAdvertiser(where).ifPresent(running::add);
        }
    }

    /** For --dhcp-known-only while the store is slow: a machine a MAC group or selector names. */
    private static boolean knownWithoutStore(MacAddress mac, ProfileCatalog catalog) {
        return catalog.choiceWithoutStore(mac).filter(c -> !c.because().equals("default")).isPresent();
    }

    /**
     * For --dhcp-known-only: a machine Pivot has a record of (it fetched a script before), or one an assignment or a
     * MAC group names. The default profile alone does not make a machine known.
     */
    private static boolean knownMachine(MacAddress mac, ProfileCatalog catalog, JdbcStore store) {
        if (catalog.choice(mac).filter(c -> !c.because().equals("default")).isPresent()) {
            return true;
        }
        try {
            return store.machine(mac).isPresent();
        } catch (RuntimeException e) {
            return false; // the store unreadable: machines with a lease still renew (the guard lets them through)
        }
    }

    /** @param httpPort the port the boot URLs name (the bound one, when the config said 0) */
    static Optional<DhcpConfig> config(ServerConfig c, PivotServer.Endpoint where, int httpPort) {
        if (c.dhcp() != ServerConfig.DhcpMode.FULL && c.range().isPresent()) {
            throw new IllegalArgumentException("--range only makes sense with --dhcp full");
        }
        DhcpConfig config;
        switch (c.dhcp()) {
            case OFF -> {
                return Optional.empty();
            }
            case FULL -> {
                String range = c.range().orElseThrow(
                        () -> new IllegalArgumentException("--dhcp full needs --range FIRST-LAST"));
                String[] ends = range.split("-", 2);
                if (ends.length != 2) {
                    throw new IllegalArgumentException("--range " + range
                            + ": expected FIRST-LAST, e.g. 10.0.0.100-10.0.0.199");
                }
                var pool = new DhcpConfig.Pool(ipv4("--range", ends[0]), ipv4("--range", ends[1]),
                        where.prefixLength());
                if (c.router().isPresent()) {
                    pool = pool.withRouter(ipv4("--router", c.router().get()));
                }
                config = DhcpConfig.full(where.address(), httpPort, pool);
            }
            default -> config = DhcpConfig.proxy(where.address(), httpPort);
        }
        return Optional.of(where.interfaceName().map(config::withInterface).orElse(config));
    }

    private static Inet4Address ipv4(String option, String text) {
        if (!text.trim().matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException(option + " " + text + ": not an IPv4 address");
        }
        try {
            return (Inet4Address) InetAddress.getByName(text.trim());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(option + " " + text + ": not an IPv4 address");
        }
    }
}
