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
 *
 * <p>Under pressure (DISCOVERs from thousands of made-up MACs): an offer holds its address only briefly, at most
 * half the pool is held by offers at once (past that a machine without a lease gets no offer, counted), and a new
 * machine is given an address nobody held before one that a machine used to have, so machines that already have
 * (or had) a lease keep being served.
 */
public final class LeasePool {

    /**
     * How long an OFFER keeps its address for the client's REQUEST: PXE ROMs and udhcpc request within a second or
     * two of the offer, and an offer held long is what a DISCOVER flood exhausts a pool with.
     */
    static final Duration OFFER_HOLD = Duration.ofSeconds(10);

    /** Addresses held by offers now, oldest first (all held for the same time, so also in expiry order). */
    private final java.util.LinkedHashMap<Inet4Address, Instant> heldOffers = new java.util.LinkedHashMap<>();
    private final int maxHeldOffers;
    private final dev.pivot.boot.Refusals refusals;
    /** The last empty {@link #offer} was for the offers held, not a full range (then no boot event is made). */
    private boolean refusedForPressure;

    private final DhcpConfig.Pool pool;
    private final Inet4Address server;
    private final LeaseStore store;
    private final Clock clock;
    private final java.util.Set<Inet4Address> reservedAddresses;
    /** Where the search for a free address resumes: the one after the last address handed out. Scanning from the
     * pool's start each time made every OFFER cost O(leases) (quadratic under a benchmark's thousands of clients). */
    private long nextCandidate;

    public LeasePool(DhcpConfig.Pool pool, Inet4Address server, LeaseStore store, Clock clock) {
        this(pool, server, store, clock, new dev.pivot.boot.Refusals());
    }

    public LeasePool(DhcpConfig.Pool pool, Inet4Address server, LeaseStore store, Clock clock,
                     dev.pivot.boot.Refusals refusals) {
        this.refusals = refusals;
        long size = Ipv4.toLong(pool.last()) - Ipv4.toLong(pool.first()) + 1;
        // Half the range, but a small range may be all offers (a lab's three addresses, three machines at once).
        this.maxHeldOffers = (int) Math.min(Integer.MAX_VALUE, Math.max(size / 2, Math.min(size, 8)));
        this.pool = pool;
        this.server = server;
        this.store = store;
        this.clock = clock;
        this.reservedAddresses = java.util.Set.copyOf(pool.reservations().values());
        this.nextCandidate = Ipv4.toLong(pool.first());
        if (store.shared()) {
            // Servers sharing the range each hand out new addresses from their own part of it (by their address):
            // starting at the same place, two servers answering two machines at once would choose the same address
            // for both, and one of the two offers would be refused by the store.
            this.nextCandidate += Math.floorMod((long) server.hashCode() * 0x9E3779B1L, size);
        }
    }

    /** Picks and holds an address for an OFFER: the reservation, the machine's last address, the requested one,
     * else the first free one. Empty when the pool is exhausted. */
    public synchronized Optional<Inet4Address> offer(MacAddress mac, Optional<Inet4Address> requested) {
        Instant now = now();
        heldOffers.values().removeIf(until -> !until.isAfter(now));
        boolean known = pool.reservations().containsKey(mac) || store.byMac(mac).isPresent();
        refusedForPressure = !known && heldOffers.size() >= maxHeldOffers;
        if (refusedForPressure) {
            refusals.refuse("dhcp_offers_held", "the DHCP range", heldOffers.size() + " addresses held by offers"
                    + " not yet requested (half the range): no offer for machines without a lease");
            return Optional.empty();
        }
        Optional<Inet4Address> chosen = pick(mac, requested);
        chosen.ifPresent(address -> {
            Optional<Lease> current = store.byAddress(address);
            boolean alreadyBound = current.isPresent() && current.get().mac().equals(mac)
                    && current.get().state() == Lease.State.BOUND && current.get().activeAt(now);
            if (!alreadyBound) {
                store.put(new Lease(address, mac, now.plus(OFFER_HOLD), Lease.State.OFFERED));
                heldOffers.remove(address);
                heldOffers.put(address, now.plus(OFFER_HOLD));
            }
        });
        if (chosen.isEmpty()) {
            refusals.refuse("dhcp_range_exhausted", "the DHCP range", "no free address for " + mac);
        }
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
        // First an address nobody held, then one whose offer ran out, then one whose lease ran out: a machine whose
        // lease expired finds its old address still free unless the range is really full.
        for (int tier = 0; tier < 3; tier++) {
            for (long i = 0; i < size; i++) {
                long a = first + Math.floorMod(start - first + i, size);
                Inet4Address candidate = Ipv4.of(a);
                if (usableBy(mac, candidate) && tierOf(candidate) <= tier) {
                    nextCandidate = a + 1 > first + size - 1 ? first : a + 1;
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    /** 0: never held (or released), 1: an offer that ran out, 2: a lease that ran out. */
    private int tierOf(Inet4Address address) {
        Optional<Lease> held = store.byAddress(address);
        return held.isEmpty() ? 0 : held.get().state() == Lease.State.OFFERED ? 1 : 2;
    }

    /** Binds the address to the machine for a REQUEST; empty means NAK (not ours to give, or someone else's). */
    public synchronized Optional<Lease> bind(MacAddress mac, Inet4Address address) {
        if (!usableBy(mac, address)) {
            return Optional.empty();
        }
        Lease lease = new Lease(address, mac, now().plus(pool.leaseTime()), Lease.State.BOUND);
        store.put(lease);
        heldOffers.remove(address);
        return Optional.of(lease);
    }

    /** The client chose another server's offer: free what we held for it. */
    public synchronized void forgetOffer(MacAddress mac) {
        store.byMac(mac).filter(l -> l.state() == Lease.State.OFFERED).ifPresent(l -> {
            store.remove(l.address());
            heldOffers.remove(l.address());
        });
    }

    /** Whether the last offer refused was refused for the offers already held (a DISCOVER flood). */
    public synchronized boolean lastRefusalWasPressure() {
        return refusedForPressure;
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

    /** Whether the machine has a reservation or was ever bound here (its lease current or expired). */
    public synchronized boolean hadLease(MacAddress mac) {
        return pool.reservations().containsKey(mac)
                || store.byMac(mac).filter(l -> l.state() == Lease.State.BOUND).isPresent();
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
