package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.net.Inet4Address;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Leases in a map; lost on restart (clients then renew, get a NAK only if the address went to someone else). */
public final class InMemoryLeaseStore implements LeaseStore {

    private final Map<Inet4Address, Lease> byAddress = new LinkedHashMap<>();

    @Override
    public Optional<Lease> byMac(MacAddress mac) {
        return byAddress.values().stream()
                .filter(l -> l.mac().equals(mac) && l.state() != Lease.State.DECLINED)
                .findFirst();
    }

    @Override
    public Optional<Lease> byAddress(Inet4Address address) {
        return Optional.ofNullable(byAddress.get(address));
    }

    @Override
    public void put(Lease lease) {
        if (lease.state() != Lease.State.DECLINED) {
            byMac(lease.mac()).ifPresent(old -> byAddress.remove(old.address()));
        }
        byAddress.put(lease.address(), lease);
    }

    @Override
    public void remove(Inet4Address address) {
        byAddress.remove(address);
    }

    @Override
    public List<Lease> all() {
        return List.copyOf(byAddress.values());
    }
}
