package dev.pivot.boot;

import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which machine uses which IP address, as learned from DHCP (a lease, or the address a client requests while a
 * ProxyDHCP server listens). TFTP and HTTP see only a source address; this lets their events name the machine.
 */
public final class AddressBook {

    private final ConcurrentHashMap<InetAddress, MacAddress> macs = new ConcurrentHashMap<>();
    /** Asked for an address this server's own DHCP never saw (another server leased it); none by default. */
    private volatile java.util.function.Function<InetAddress, Optional<MacAddress>> elsewhere = a -> Optional.empty();
    /** Addresses the lookup elsewhere did not know, and when: a flood from unknown addresses asks it once a while. */
    private final ConcurrentHashMap<InetAddress, Long> misses = new ConcurrentHashMap<>();
    private static final long MISS_REMEMBERED_NANOS = 5_000_000_000L;
    private static final int MAX_MISSES = 4096;

    /**
     * Where to look up an address DHCP did not show this server: with leases shared between servers, the lease
     * another server gave (a machine whose server died goes on with this one, and its TFTP requests name no MAC).
     */
    public void elsewhere(java.util.function.Function<InetAddress, Optional<MacAddress>> lookup) {
        this.elsewhere = lookup;
    }

    public void learn(InetAddress address, MacAddress mac) {
        if (!address.isAnyLocalAddress()) {
            macs.put(address, mac);
        }
    }

    public Optional<MacAddress> macOf(InetAddress address) {
        MacAddress known = macs.get(address);
        if (known != null) {
            return Optional.of(known);
        }
        long now = System.nanoTime();
        Long missed = misses.get(address);
        if (missed != null && now - missed < MISS_REMEMBERED_NANOS) {
            return Optional.empty();
        }
        Optional<MacAddress> found = elsewhere.apply(address);
        if (found.isPresent()) {
            learn(address, found.get());
        } else {
            if (misses.size() >= MAX_MISSES) {
                misses.clear();
            }
            misses.put(address, now);
        }
        return found;
    }
}
