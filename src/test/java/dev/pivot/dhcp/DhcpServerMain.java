package dev.pivot.dhcp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;

import java.io.IOException;

/**
 * Runs a {@link DhcpServer} in its own JVM so an integration test can start it inside a network namespace
 * ({@code ip netns exec NS java -cp … DhcpServerMain …}). Prints READY once listening and one
 * {@code EVENT mac detail} line per boot event; stops when its standard input closes.
 *
 * <p>Arguments: {@code full SERVER HTTP_PORT FIRST LAST PREFIX} or {@code proxy SERVER HTTP_PORT}.
 */
public final class DhcpServerMain {

    public static void main(String[] args) throws IOException {
        DhcpConfig config = switch (args[0]) {
            case "full" -> DhcpConfig.full(Ipv4.parse(args[1]), Integer.parseInt(args[2]),
                    new DhcpConfig.Pool(Ipv4.parse(args[3]), Ipv4.parse(args[4]), Integer.parseInt(args[5])));
            case "proxy" -> DhcpConfig.proxy(Ipv4.parse(args[1]), Integer.parseInt(args[2]));
            default -> throw new IllegalArgumentException("mode must be full or proxy, got " + args[0]);
        };
        try (DhcpServer server = new DhcpServer(config, new BootPolicy(), new AddressBook(), event ->
                System.out.println("EVENT " + event.mac() + (event.failed() ? " FAILED " : " ") + event.detail()))) {
            server.start();
            System.out.println("READY");
            System.out.flush();
            while (System.in.read() >= 0) {
                // keep running until the test closes our stdin or ends us
            }
        }
    }
}
