package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.net.Inet4Address;
import java.time.Instant;

/**
 * An address held for a machine until {@code expires}.
 *
 * @param state OFFERED holds the address briefly between OFFER and REQUEST; BOUND after the ACK; DECLINED marks an
 *              address a client found in use (ARP conflict), kept out of the pool until it expires
 */
public record Lease(Inet4Address address, MacAddress mac, Instant expires, State state) {

    public enum State { OFFERED, BOUND, DECLINED }

    public boolean activeAt(Instant now) {
        return expires.isAfter(now);
    }
}
