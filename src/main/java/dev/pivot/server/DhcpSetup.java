package dev.pivot.server;

import dev.pivot.dhcp.DhcpConfig;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/** The DHCP part of a {@link ServerConfig}, checked: the mode, the range and the router, or no DHCP at all. */
final class DhcpSetup {

    private DhcpSetup() {
    }

    /** @param httpPort the port the boot URLs name (the bound one, when the config said 0) */
    static Optional<DhcpConfig> config(ServerConfig c, PivotServer.Endpoint where, int httpPort) {
        if (c.dhcp() != ServerConfig.DhcpMode.FULL && c.range().isPresent()) {
            throw new IllegalArgumentException("--range only makes sense with --dhcp full");
        }
        DhcpConfig config;
        switch (c.dhcp()) {
            case OFF -> {
                return Optional.empty();
            }
            case FULL -> {
                String range = c.range().orElseThrow(
                        () -> new IllegalArgumentException("--dhcp full needs --range FIRST-LAST"));
                String[] ends = range.split("-", 2);
                if (ends.length != 2) {
                    throw new IllegalArgumentException("--range " + range
                            + ": expected FIRST-LAST, e.g. 10.0.0.100-10.0.0.199");
                }
                var pool = new DhcpConfig.Pool(ipv4("--range", ends[0]), ipv4("--range", ends[1]),
                        where.prefixLength());
                if (c.router().isPresent()) {
                    pool = pool.withRouter(ipv4("--router", c.router().get()));
                }
                config = DhcpConfig.full(where.address(), httpPort, pool);
            }
            default -> config = DhcpConfig.proxy(where.address(), httpPort);
        }
        return Optional.of(where.interfaceName().map(config::withInterface).orElse(config));
    }

    private static Inet4Address ipv4(String option, String text) {
        if (!text.trim().matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException(option + " " + text + ": not an IPv4 address");
        }
        try {
            return (Inet4Address) InetAddress.getByName(text.trim());
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(option + " " + text + ": not an IPv4 address");
        }
    }
}
