package dev.pivot.server;

import dev.pivot.ndp.RouterAdvertiser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Optional;

/**
 * The router advertiser beside DHCP: on the interface Pivot serves (named, or the one holding the --listen
 * address). Where it cannot run (no CAP_NET_RAW, IPv6 off, loopback) Pivot serves on and says why once: boots
 * then only wait longer on a link without an IPv6 router.
 */
final class Ipv6Setup {

    private static final Logger log = LoggerFactory.getLogger(Ipv6Setup.class);

    private Ipv6Setup() {
    }

    static Optional<RouterAdvertiser> routerAdvertiser(PivotServer.Endpoint where) {
        Optional<String> name = where.interfaceName().or(() -> interfaceHolding(where));
        if (name.isEmpty()) {
            log.info("IPv6: no router advertisements: {} is on no network interface but loopback",
                    where.address().getHostAddress());
            return Optional.empty();
        }
        try {
            return Optional.of(RouterAdvertiser.start(name.get()));
        } catch (IOException | RuntimeException e) {
            log.warn("IPv6: cannot answer router solicitations on {} ({}): on a link without an IPv6 router, "
                    + "iPXE waits for IPv6 autoconfiguration before it boots", name.get(), e.getMessage());
            return Optional.empty();
        }
    }

    private static Optional<String> interfaceHolding(PivotServer.Endpoint where) {
        try {
            NetworkInterface nic = NetworkInterface.getByInetAddress(where.address());
            return nic == null || nic.isLoopback() ? Optional.empty() : Optional.of(nic.getName());
        } catch (SocketException e) {
            return Optional.empty();
        }
    }
}
