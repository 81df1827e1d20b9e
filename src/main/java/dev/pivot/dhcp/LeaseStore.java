package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.net.Inet4Address;
import java.util.List;
import java.util.Optional;

/** Where leases live. In memory today; a persistent store implements the same interface. Calls are serialized by
 * the caller ({@link LeasePool}), so implementations need not lock. */
public interface LeaseStore {

    /** The lease of this machine (an address it holds or held), declined ones excluded. */
    Optional<Lease> byMac(MacAddress mac);

    Optional<Lease> byAddress(Inet4Address address);

    /** Stores the lease, replacing any lease on the same address and any non-declined lease of the same MAC. */
    void put(Lease lease);

    void remove(Inet4Address address);

    List<Lease> all();
}
