package dev.pivot.bench;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;
import dev.pivot.history.BootSessions;
import dev.pivot.dhcp.DhcpConfig;
import dev.pivot.dhcp.DhcpServer;
import dev.pivot.dhcp.FileLeaseStore;
import dev.pivot.dhcp.Ipv4;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Pivot's DHCP server as {@code pivot serve --dhcp full} wires it (FULL mode, {@link FileLeaseStore} leases,
 * {@link BootSessions} as the event sink), without HTTP/TFTP or an image: what {@code bench/dhcp-vs-peers.sh}
 * measures against Kea and dnsmasq. Arguments: {@code SERVER_IP FIRST LAST PREFIX LEASE_FILE INTERFACE}.
 * Prints READY once listening; runs until killed.
 */
public final class DhcpBenchServer {

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: DhcpBenchServer SERVER_IP FIRST LAST PREFIX LEASE_FILE INTERFACE");
            System.exit(2);
        }
        DhcpConfig config = DhcpConfig.full(Ipv4.parse(args[0]), 80,
                new DhcpConfig.Pool(Ipv4.parse(args[1]), Ipv4.parse(args[2]), Integer.parseInt(args[3])))
                .withInterface(args[5]);
        DhcpServer server = new DhcpServer(config, new BootPolicy(), new AddressBook(), new BootSessions(),
                new FileLeaseStore(Path.of(args[4])));
        server.start();
        System.out.println("READY");
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
