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

    public void learn(InetAddress address, MacAddress mac) {
        if (!address.isAnyLocalAddress()) {
            macs.put(address, mac);
        }
    }

    public Optional<MacAddress> macOf(InetAddress address) {
        return Optional.ofNullable(macs.get(address));
    }
}
