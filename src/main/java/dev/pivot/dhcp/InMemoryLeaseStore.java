package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.net.Inet4Address;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Leases in a map; lost on restart (clients then renew, get a NAK only if the address went to someone else).
 * Both look-ups are O(1): a benchmark's tens of thousands of clients must not make every packet scan them all. */
public final class InMemoryLeaseStore implements LeaseStore {

    private final Map<Inet4Address, Lease> byAddress = new LinkedHashMap<>();
    /** Each MAC's one non-declined lease (put() replaces an older one). */
    private final Map<MacAddress, Inet4Address> liveByMac = new HashMap<>();

    @Override
    public Optional<Lease> byMac(MacAddress mac) {
        return Optional.ofNullable(liveByMac.get(mac)).map(byAddress::get);
    }

    @Override
    public Optional<Lease> byAddress(Inet4Address address) {
        return Optional.ofNullable(byAddress.get(address));
    }

    @Override
    public void put(Lease lease) {
        remove(lease.address());
        if (lease.state() != Lease.State.DECLINED) {
            byMac(lease.mac()).ifPresent(old -> remove(old.address()));
            liveByMac.put(lease.mac(), lease.address());
        }
        byAddress.put(lease.address(), lease);
    }

    @Override
    public void remove(Inet4Address address) {
        Lease old = byAddress.remove(address);
        if (old != null && address.equals(liveByMac.get(old.mac()))) {
            liveByMac.remove(old.mac());
        }
    }

    @Override
    public List<Lease> all() {
        return List.copyOf(byAddress.values());
    }

    int size() {
        return byAddress.size();
    }
}
