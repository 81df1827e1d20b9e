package dev.pivot.tftp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.MacAddress;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The TFTP server as its own process, for tests that must run it inside a network namespace
 * ({@code ip netns exec NS java -cp … dev.pivot.tftp.StandaloneTftpServer ROOT}). It listens on 127.0.0.1 with an
 * ephemeral port, prints "READY <port>", prints each boot event as "EVENT …", and stops when stdin closes.
 * System properties {@code pivot.tftp.minTimeoutMs} and {@code pivot.tftp.quietTimeoutMs} override the defaults
 * (for the loss measurements in bench/), {@code pivot.tftp.bind} the address (an address of the test's namespace).
 */
public final class StandaloneTftpServer {

    public static void main(String[] args) throws Exception {
        AddressBook book = new AddressBook();
        book.learn(InetAddress.getLoopbackAddress(), MacAddress.parse("52:54:00:00:00:01"));
        String bind = System.getProperty("pivot.tftp.bind");
        InetAddress address = bind == null ? InetAddress.getLoopbackAddress() : InetAddress.getByName(bind);
        TftpConfig defaults = TftpConfig.defaults(address, 0, List.of(Path.of(args[0])));
        TftpConfig config = defaults.withTimeouts(
                Duration.ofMillis(Long.getLong("pivot.tftp.minTimeoutMs", defaults.minTimeout().toMillis())),
                Duration.ofMillis(Long.getLong("pivot.tftp.quietTimeoutMs", defaults.quietTimeout().toMillis())));
        try (TftpServer server = new TftpServer(config, TftpFiles.of(config.roots()), book,
                event -> System.out.println("EVENT " + event))) {
            server.start();
            System.out.println("READY " + server.address().getPort());
            System.out.flush();
            System.in.transferTo(java.io.OutputStream.nullOutputStream());
        }
    }
}
