package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.net.Inet4Address;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Where leases live. In memory, in a file ({@link FileLeaseStore}), or in a database several servers share.
 * Calls from the protocol side are serialized by the caller ({@link LeasePool}); {@link #commit} and {@link #idle}
 * come from the server's one commit thread, so a store that also changes in them must lock for itself. */
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

    /**
     * Makes every change so far durable, like {@link #sync}, and returns the addresses among them this server could
     * not have: another server sharing the store holds them. The replies that promise those addresses must not go
     * out (the client retries and is then answered from what the store really holds). Throws when nothing could be
     * made durable.
     */
    default Set<Inet4Address> commit() {
        sync();
        return Set.of();
    }

    /** Whether other servers lease from the same store (then each starts choosing new addresses elsewhere). */
    default boolean shared() {
        return false;
    }

    /**
     * The lease on {@code address} as the store last held it durably (written or read back), whatever changed in
     * memory since: while a shared store cannot be written, a machine may keep what it holds there. Empty for
     * stores that never fail that way.
     */
    default Optional<Lease> durable(Inet4Address address) {
        return Optional.empty();
    }

    /** Called by the commit thread when no reply waited for a while: a shared store catches up with the others. */
    default void idle() {
    }
}
