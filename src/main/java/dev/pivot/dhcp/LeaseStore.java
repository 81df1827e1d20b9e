package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.net.Inet4Address;
import java.util.List;
import java.util.Optional;

/** Where leases live. In memory or in a file ({@link FileLeaseStore}). Calls are serialized by
 * the caller ({@link LeasePool}), so implementations need not lock. */
public interface LeaseStore {

    /** The lease of this machine (an address it holds or held), declined ones excluded. */
    Optional<Lease> byMac(MacAddress mac);

    Optional<Lease> byAddress(Inet4Address address);

    /** Stores the lease, replacing any lease on the same address and any non-declined lease of the same MAC. */
    void put(Lease lease);

    void remove(Inet4Address address);

    List<Lease> all();

    /** Makes every change so far durable. The server calls it before sending the replies that promise those
     * changes (an ACK must never name a lease a crash could forget); in-memory stores have nothing to do. */
    default void sync() {
    }
}
