package dev.pivot.dhcp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The socket layer on loopback with unprivileged ports: replies that go by unicast (renewals, INFORM) reach the
 * client, and malformed datagrams are dropped without stopping the server.
 */
class DhcpServerTest {

    private static final Inet4Address LOOPBACK = Ipv4.parse("127.0.0.1");
    private static final MacAddress MAC = MacAddress.parse("52:54:00:00:00:31");

    private final List<BootEvent> events = new CopyOnWriteArrayList<>();
    private DhcpServer server;
    private DatagramChannel client;
    private int serverPort;

    @BeforeEach
    void start() throws IOException {
        int base = ThreadLocalRandom.current().nextInt(20000, 60000);
        serverPort = base;
        int clientPort = base + 1;
        DhcpConfig config = DhcpConfig.full(LOOPBACK, 8080,
                        new DhcpConfig.Pool(Ipv4.parse("127.0.0.50"), Ipv4.parse("127.0.0.60"), 8))
                .withPorts(serverPort, clientPort, base + 2);
        server = new DhcpServer(config, BootPolicy.ipxe(), new AddressBook(), events::add, new InMemoryLeaseStore());
        server.start();
        client = DatagramChannel.open(StandardProtocolFamily.INET);
        // The wildcard, so unicast replies to any 127/8 client address arrive here.
        client.bind(new InetSocketAddress(DhcpPacket.ZERO, clientPort));
        client.configureBlocking(true);
        client.socket().setSoTimeout(3000);
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
        if (client != null) {
            client.close();
        }
    }

    @Test
    void survivesMalformedDatagramsAndAnswersTheNextRequest() throws Exception {
        send(new byte[]{1, 2, 3});
        send(new byte[DhcpPacket.MAX_LENGTH + 100]);
        byte[] lies = DhcpPacket.builder().mac(MAC).type(MessageType.INFORM).ciaddr(LOOPBACK).build().encode();
        lies[241] = (byte) 200; // option 53's length byte now runs past the end
        send(lies);

        DhcpPacket inform = DhcpPacket.builder().mac(MAC).xid(77).type(MessageType.INFORM).ciaddr(LOOPBACK).build();
        send(inform.encode());
        DhcpPacket ack = receive();

        assertThat(ack.xid()).isEqualTo(77);
        assertThat(ack.messageType()).contains(MessageType.ACK);
        assertThat(ack.address(DhcpOption.SUBNET_MASK)).contains(Ipv4.parse("255.0.0.0"));
        assertThat(events).extracting(BootEvent::detail).containsExactly("inform 127.0.0.1");
    }

    @Test
    void aRenewalIsAnsweredByUnicastToTheClientsAddress() throws Exception {
        Inet4Address leased = Ipv4.parse("127.0.0.55");
        DhcpPacket renew = DhcpPacket.builder().mac(MAC).xid(78).type(MessageType.REQUEST).ciaddr(leased).build();

        send(renew.encode());
        DhcpPacket ack = receive();

        assertThat(ack.messageType()).contains(MessageType.ACK);
        assertThat(ack.yiaddr()).isEqualTo(leased);
        assertThat(ack.ciaddr()).isEqualTo(leased);
        assertThat(ack.u32(DhcpOption.LEASE_TIME)).contains(3600L);
        assertThat(events).extracting(BootEvent::detail).containsExactly("renew 127.0.0.55");
    }

    @Test
    void aServerAddressThisHostDoesNotHaveIsNamedInTheError() {
        DhcpConfig config = DhcpConfig.proxy(Ipv4.parse("192.0.2.1"), 8080).withPorts(serverPort + 3, serverPort + 4,
                serverPort + 5);
        DhcpServer wrong = new DhcpServer(config, BootPolicy.ipxe(), new AddressBook(), events::add,
                new InMemoryLeaseStore());

        org.assertj.core.api.Assertions.assertThatThrownBy(wrong::start)
                .isInstanceOf(IOException.class)
                .hasMessageContaining("cannot bind DHCP socket to 192.0.2.1:" + (serverPort + 3));
    }

    private void send(byte[] datagram) throws IOException {
        client.send(ByteBuffer.wrap(datagram), new InetSocketAddress(LOOPBACK, serverPort));
    }

    private DhcpPacket receive() throws Exception {
        byte[] buffer = new byte[2048];
        java.net.DatagramPacket p = new java.net.DatagramPacket(buffer, buffer.length);
        client.socket().receive(p);
        return DhcpPacket.decode(buffer, p.getLength());
    }
}
