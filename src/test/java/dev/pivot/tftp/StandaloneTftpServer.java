package dev.pivot.tftp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.MacAddress;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;

/**
 * The TFTP server as its own process, for tests that must run it inside a network namespace
 * ({@code ip netns exec NS java -cp … dev.pivot.tftp.StandaloneTftpServer ROOT}). It listens on 127.0.0.1 with an
 * ephemeral port, prints "READY <port>", prints each boot event as "EVENT …", and stops when stdin closes.
 */
public final class StandaloneTftpServer {

    public static void main(String[] args) throws Exception {
        AddressBook book = new AddressBook();
        book.learn(InetAddress.getLoopbackAddress(), MacAddress.parse("52:54:00:00:00:01"));
        TftpConfig config = TftpConfig.defaults(InetAddress.getLoopbackAddress(), 0, List.of(Path.of(args[0])));
        try (TftpServer server = new TftpServer(config, TftpFiles.of(config.roots()), book,
                event -> System.out.println("EVENT " + event))) {
            server.start();
            System.out.println("READY " + server.address().getPort());
            System.out.flush();
            System.in.transferTo(java.io.OutputStream.nullOutputStream());
        }
    }
}
