package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.net.Inet4Address;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How Pivot's DHCP server runs.
 *
 * @param mode          PROXY answers only PXE clients with boot options next to an existing DHCP server; FULL also
 *                      hands out addresses
 * @param serverAddress this host's IPv4 address on the boot network: server id, TFTP and HTTP address
 * @param bindAddress   where the receiving socket binds (0.0.0.0 to hear broadcasts)
 * @param interfaceName the boot network interface, for logs and (later) SO_BINDTODEVICE
 * @param serverPort    67; tests may move it
 * @param clientPort    68: where replies go
 * @param proxyPort     4011: where PXE ROMs send their ProxyDHCP request
 * @param httpPort      Pivot's HTTP port, for iPXE script and HTTP Boot URLs
 * @param pool          FULL mode's addresses; empty in PROXY mode
 * @param upgradeIpxe   hand iPXE clients the distro's iPXE over TFTP once per boot before the script
 *                      ({@link IpxeUpgrade}); off by default
 */
public record DhcpConfig(Mode mode, Inet4Address serverAddress, Inet4Address bindAddress,
                         Optional<String> interfaceName, int serverPort, int clientPort, int proxyPort, int httpPort,
                         Optional<Pool> pool, boolean upgradeIpxe) {

    public DhcpConfig(Mode mode, Inet4Address serverAddress, Inet4Address bindAddress, Optional<String> interfaceName,
                      int serverPort, int clientPort, int proxyPort, int httpPort, Optional<Pool> pool) {
        this(mode, serverAddress, bindAddress, interfaceName, serverPort, clientPort, proxyPort, httpPort, pool, false);
    }

    public enum Mode { PROXY, FULL }

    /**
     * FULL mode's address pool.
     *
     * @param first        first address handed out
     * @param last         last address handed out (inclusive)
     * @param prefixLength the subnet's prefix length (option 1)
     * @param router       option 3, none unless given
     * @param dns          option 6, may be empty
     * @param leaseTime    option 51
     * @param reservations fixed addresses by MAC; they may lie outside first..last
     */
    public record Pool(Inet4Address first, Inet4Address last, int prefixLength, Optional<Inet4Address> router,
                       List<Inet4Address> dns, Duration leaseTime, Map<MacAddress, Inet4Address> reservations) {

        public Pool {
            if (prefixLength < 1 || prefixLength > 30) {
                throw new IllegalArgumentException("prefix length " + prefixLength + " is outside 1..30");
            }
            if (Ipv4.toLong(first) > Ipv4.toLong(last)) {
                throw new IllegalArgumentException("range " + first.getHostAddress() + "-" + last.getHostAddress()
                        + " ends before it starts");
            }
            if (!Ipv4.sameSubnet(first, last, prefixLength)) {
                throw new IllegalArgumentException("range " + first.getHostAddress() + "-" + last.getHostAddress()
                        + " is not inside one /" + prefixLength);
            }
            if (leaseTime.toSeconds() < 60) {
                throw new IllegalArgumentException("lease time " + leaseTime + " is shorter than a minute");
            }
            dns = List.copyOf(dns);
            reservations = Map.copyOf(reservations);
        }

        public Pool(Inet4Address first, Inet4Address last, int prefixLength) {
            this(first, last, prefixLength, Optional.empty(), List.of(), Duration.ofHours(1), Map.of());
        }

        public Pool withRouter(Inet4Address router) {
            return new Pool(first, last, prefixLength, Optional.of(router), dns, leaseTime, reservations);
        }

        public Pool withDns(List<Inet4Address> dns) {
            return new Pool(first, last, prefixLength, router, dns, leaseTime, reservations);
        }

        public Pool withReservations(Map<MacAddress, Inet4Address> reservations) {
            return new Pool(first, last, prefixLength, router, dns, leaseTime, reservations);
        }

        public Inet4Address netmask() {
            return Ipv4.netmask(prefixLength);
        }

        public boolean contains(Inet4Address address) {
            long a = Ipv4.toLong(address);
            return a >= Ipv4.toLong(first) && a <= Ipv4.toLong(last);
        }
    }

    public DhcpConfig {
        if (mode == Mode.FULL && pool.isEmpty()) {
            throw new IllegalArgumentException("FULL DHCP mode needs an address range");
        }
        if (mode == Mode.FULL && !Ipv4.sameSubnet(serverAddress, pool.get().first(), pool.get().prefixLength())) {
            throw new IllegalArgumentException("range starting " + pool.get().first().getHostAddress()
                    + " is not in the server's subnet " + serverAddress.getHostAddress() + "/" + pool.get().prefixLength());
        }
        for (int port : new int[]{serverPort, clientPort, proxyPort, httpPort}) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port " + port + " is outside 1..65535");
            }
        }
    }

    public static DhcpConfig proxy(Inet4Address serverAddress, int httpPort) {
        return new DhcpConfig(Mode.PROXY, serverAddress, DhcpPacket.ZERO, Optional.empty(), 67, 68, 4011, httpPort,
                Optional.empty());
    }

    public static DhcpConfig full(Inet4Address serverAddress, int httpPort, Pool pool) {
        return new DhcpConfig(Mode.FULL, serverAddress, DhcpPacket.ZERO, Optional.empty(), 67, 68, 4011, httpPort,
                Optional.of(pool));
    }

    public DhcpConfig withPorts(int serverPort, int clientPort, int proxyPort) {
        return new DhcpConfig(mode, serverAddress, bindAddress, interfaceName, serverPort, clientPort, proxyPort,
                httpPort, pool, upgradeIpxe);
    }

    public DhcpConfig withInterface(String interfaceName) {
        return new DhcpConfig(mode, serverAddress, bindAddress, Optional.of(interfaceName), serverPort, clientPort,
                proxyPort, httpPort, pool, upgradeIpxe);
    }

    public DhcpConfig withIpxeUpgrade(boolean upgradeIpxe) {
        return new DhcpConfig(mode, serverAddress, bindAddress, interfaceName, serverPort, clientPort, proxyPort,
                httpPort, pool, upgradeIpxe);
    }
}
