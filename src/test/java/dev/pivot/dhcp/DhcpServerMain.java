package dev.pivot.dhcp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Runs a {@link DhcpServer} in its own JVM so an integration test can start it inside a network namespace
 * ({@code ip netns exec NS java -cp … DhcpServerMain …}). Prints READY once listening and one
 * {@code EVENT mac detail} line per boot event; stops when its standard input closes.
 *
 * <p>Arguments: {@code full SERVER HTTP_PORT FIRST LAST PREFIX} or {@code proxy SERVER HTTP_PORT}. With the
 * system property {@code pivot.test.http=true} it also answers HTTP on SERVER:HTTP_PORT with a script that
 * only sleeps, printing {@code HTTP GET uri} per request: enough to see an iPXE client follow the boot file.
 * With {@code pivot.test.tftp=true} it listens on SERVER:69 and prints {@code TFTP RRQ file} for each read
 * request, without answering: enough to see a PXE ROM accept the DHCP answer.
 * With {@code pivot.test.leases=FILE} leases persist in a {@link FileLeaseStore} (as {@code pivot serve} keeps
 * them); {@code pivot.test.events=false} prints no EVENT lines (benchmarks).
 */
public final class DhcpServerMain {

    public static void main(String[] args) throws IOException {
        DhcpConfig chosen = switch (args[0]) {
            case "full" -> DhcpConfig.full(Ipv4.parse(args[1]), Integer.parseInt(args[2]),
                    new DhcpConfig.Pool(Ipv4.parse(args[3]), Ipv4.parse(args[4]), Integer.parseInt(args[5])));
            case "proxy" -> DhcpConfig.proxy(Ipv4.parse(args[1]), Integer.parseInt(args[2]));
            default -> throw new IllegalArgumentException("mode must be full or proxy, got " + args[0]);
        };
        String iface = System.getProperty("pivot.test.interface", "");
        if (!iface.isEmpty()) {
            chosen = chosen.withInterface(iface);
        }
        DhcpConfig config = chosen;
        String leaseFile = System.getProperty("pivot.test.leases", "");
        LeaseStore leases = leaseFile.isEmpty() ? new InMemoryLeaseStore() : new FileLeaseStore(Path.of(leaseFile));
        boolean printEvents = Boolean.parseBoolean(System.getProperty("pivot.test.events", "true"));
        try (DhcpServer server = new DhcpServer(config, BootPolicy.ipxe(), new AddressBook(), event -> {
            if (printEvents) {
                System.out.println("EVENT " + event.mac() + (event.failed() ? " FAILED " : " ") + event.detail());
            }
        }, leases)) {
            server.start();
            if (Boolean.getBoolean("pivot.test.http")) {
                recordHttp(config);
            }
            if (Boolean.getBoolean("pivot.test.tftp")) {
                recordTftp(config);
            }
            System.out.println("READY");
            System.out.flush();
            while (System.in.read() >= 0) {
                // keep running until the test closes our stdin or ends us
            }
        }
    }

    private static void recordHttp(DhcpConfig config) throws IOException {
        HttpServer http = HttpServer.create(new InetSocketAddress(config.serverAddress(), config.httpPort()), 8);
        http.createContext("/", exchange -> {
            // iPXE percent-encodes the colons of ${net0/mac} in the query; print it decoded, as a server reads it.
            System.out.println("HTTP " + exchange.getRequestMethod() + " "
                    + URLDecoder.decode(exchange.getRequestURI().toString(), StandardCharsets.UTF_8));
            System.out.flush();
            byte[] script = "#!ipxe\necho pivot dhcp test\nsleep 600\n".getBytes(StandardCharsets.US_ASCII);
            exchange.sendResponseHeaders(200, script.length);
            exchange.getResponseBody().write(script);
            exchange.close();
        });
        http.start();
    }

    private static void recordTftp(DhcpConfig config) throws IOException {
        DatagramChannel tftp = DatagramChannel.open(StandardProtocolFamily.INET);
        tftp.bind(new InetSocketAddress(config.serverAddress(), 69));
        Thread.ofVirtual().start(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(1024);
            try {
                while (true) {
                    buffer.clear();
                    tftp.receive(buffer);
                    buffer.flip();
                    // RFC 1350: opcode 1 (RRQ), then the file name up to a NUL.
                    if (buffer.remaining() > 2 && buffer.get(0) == 0 && buffer.get(1) == 1) {
                        int end = 2;
                        while (end < buffer.limit() && buffer.get(end) != 0) {
                            end++;
                        }
                        System.out.println("TFTP RRQ " + new String(buffer.array(), 2, end - 2, StandardCharsets.US_ASCII));
                        System.out.flush();
                    }
                }
            } catch (IOException e) {
                System.out.println("TFTP listener ended: " + e.getMessage());
            }
        });
    }
}
