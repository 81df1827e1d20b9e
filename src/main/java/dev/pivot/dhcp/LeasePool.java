package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.net.Inet4Address;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * FULL mode's address allocation over a {@link LeaseStore}. The one rule that matters: an address leased (or
 * offered, or declined) to one machine is never offered to another until that lease expires.
 */
public final class LeasePool {

    /** How long an OFFER keeps its address for the client's REQUEST. */
    static final Duration OFFER_HOLD = Duration.ofSeconds(60);

    private final DhcpConfig.Pool pool;
    private final Inet4Address server;
    private final LeaseStore store;
    private final Clock clock;
    private final java.util.Set<Inet4Address> reservedAddresses;
    /** Where the search for a free address resumes: the one after the last address handed out. Scanning from the
     * pool's start each time made every OFFER cost O(leases) (quadratic under a benchmark's thousands of clients). */
    private long nextCandidate;

    public LeasePool(DhcpConfig.Pool pool, Inet4Address server, LeaseStore store, Clock clock) {
        this.pool = pool;
        this.server = server;
        this.store = store;
        this.clock = clock;
        this.reservedAddresses = java.util.Set.copyOf(pool.reservations().values());
        this.nextCandidate = Ipv4.toLong(pool.first());
    }

    /** Picks and holds an address for an OFFER: the reservation, the machine's last address, the requested one,
     * else the first free one. Empty when the pool is exhausted. */
    public synchronized Optional<Inet4Address> offer(MacAddress mac, Optional<Inet4Address> requested) {
        Optional<Inet4Address> chosen = pick(mac, requested);
        chosen.ifPresent(address -> {
            Optional<Lease> current = store.byAddress(address);
            boolean alreadyBound = current.isPresent() && current.get().mac().equals(mac)
                    && current.get().state() == Lease.State.BOUND && current.get().activeAt(now());
            if (!alreadyBound) {
                store.put(new Lease(address, mac, now().plus(OFFER_HOLD), Lease.State.OFFERED));
            }
        });
        return chosen;
    }

    private Optional<Inet4Address> pick(MacAddress mac, Optional<Inet4Address> requested) {
        Inet4Address reserved = pool.reservations().get(mac);
        if (reserved != null) {
            return usableBy(mac, reserved) ? Optional.of(reserved) : Optional.empty();
        }
        Optional<Inet4Address> previous = store.byMac(mac).map(Lease::address).filter(a -> usableBy(mac, a));
        if (previous.isPresent()) {
            return previous;
        }
        if (requested.isPresent() && usableBy(mac, requested.get())) {
            return requested;
        }
        long first = Ipv4.toLong(pool.first());
        long size = Ipv4.toLong(pool.last()) - first + 1;
        long start = nextCandidate;
        for (long i = 0; i < size; i++) {
            long a = first + Math.floorMod(start - first + i, size);
            Inet4Address candidate = Ipv4.of(a);
            if (usableBy(mac, candidate)) {
                nextCandidate = a + 1 > first + size - 1 ? first : a + 1;
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Binds the address to the machine for a REQUEST; empty means NAK (not ours to give, or someone else's). */
    public synchronized Optional<Lease> bind(MacAddress mac, Inet4Address address) {
        if (!usableBy(mac, address)) {
            return Optional.empty();
        }
        Lease lease = new Lease(address, mac, now().plus(pool.leaseTime()), Lease.State.BOUND);
        store.put(lease);
        return Optional.of(lease);
    }

    /** The client chose another server's offer: free what we held for it. */
    public synchronized void forgetOffer(MacAddress mac) {
        store.byMac(mac).filter(l -> l.state() == Lease.State.OFFERED).ifPresent(l -> store.remove(l.address()));
    }

    public synchronized void release(MacAddress mac, Inet4Address address) {
        store.byAddress(address).filter(l -> l.mac().equals(mac) && l.state() != Lease.State.DECLINED)
                .ifPresent(l -> store.remove(address));
    }

    /** The client saw the address in use (ARP): keep it out of the pool for one lease time. */
    public synchronized void decline(MacAddress mac, Inet4Address address) {
        Optional<Lease> current = store.byAddress(address);
        if (current.isPresent() && current.get().mac().equals(mac)) {
            store.put(new Lease(address, mac, now().plus(pool.leaseTime()), Lease.State.DECLINED));
        }
    }

    public synchronized Optional<Lease> leaseOf(MacAddress mac) {
        return store.byMac(mac).filter(l -> l.activeAt(now()));
    }

    private boolean usableBy(MacAddress mac, Inet4Address address) {
        if (address.equals(server) || address.equals(Ipv4.broadcast(address, pool.prefixLength()))
                || Ipv4.toLong(address) == (Ipv4.toLong(address) & Ipv4.toLong(pool.netmask()))) {
            return false;
        }
        Inet4Address reservedForMe = pool.reservations().get(mac);
        boolean reservedForOther = reservedAddresses.contains(address) && !address.equals(reservedForMe);
        if (reservedForOther || !(pool.contains(address) || address.equals(reservedForMe))) {
            return false;
        }
        Optional<Lease> holder = store.byAddress(address);
        return holder.isEmpty() || !holder.get().activeAt(now())
                || (holder.get().mac().equals(mac) && holder.get().state() != Lease.State.DECLINED);
    }

    private Instant now() {
        return clock.instant();
    }
}
