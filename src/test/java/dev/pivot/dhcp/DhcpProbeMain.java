package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.Selector;
import java.nio.channels.SelectionKey;

/**
 * A tiny PXE BIOS client for the ProxyDHCP integration test, run inside the client namespace: broadcasts a
 * PXEClient DISCOVER, prints the OFFER it gets, then sends the ProxyDHCP REQUEST to SERVER:4011 and prints the
 * ACK. Output lines: {@code OFFER yiaddr=… siaddr=… file=… vendor=… pxe43=…}, {@code ACK …} or {@code TIMEOUT …}.
 *
 * <p>Arguments: {@code CLIENT_IP SERVER_IP MAC}. The client namespace holds CLIENT_IP (as if the network's own
 * DHCP server had given it), so the broadcast leaves through the right interface.
 */
public final class DhcpProbeMain {

    public static void main(String[] args) throws IOException {
        var clientIp = Ipv4.parse(args[0]);
        var serverIp = Ipv4.parse(args[1]);
        MacAddress mac = MacAddress.parse(args[2]);
        try (DatagramChannel broadcasts = open(new InetSocketAddress(DhcpPacket.ZERO, 68));
             DatagramChannel unicast = open(new InetSocketAddress(clientIp, 68))) {
            DhcpPacket discover = DhcpPacket.builder().mac(mac).xid(0x50495654).type(MessageType.DISCOVER)
                    .option(DhcpOption.VENDOR_CLASS, "PXEClient:Arch:00000:UNDI:002001")
                    .optionU16(DhcpOption.CLIENT_ARCH, 0)
                    .option(DhcpOption.CLIENT_NDI, new byte[]{1, 2, 1})
                    .option(DhcpOption.CLIENT_UUID, new byte[17])
                    .build();
            unicast.send(ByteBuffer.wrap(discover.encode()), new InetSocketAddress(DhcpPacket.BROADCAST, 67));
            DhcpPacket offer = await(discover.xid(), MessageType.OFFER, broadcasts, unicast);
            if (offer == null) {
                System.out.println("TIMEOUT offer");
                return;
            }
            print("OFFER", offer);
            DhcpPacket request = discover.toBuilder().type(MessageType.REQUEST).ciaddr(clientIp).build();
            unicast.send(ByteBuffer.wrap(request.encode()), new InetSocketAddress(serverIp, 4011));
            DhcpPacket ack = await(discover.xid(), MessageType.ACK, broadcasts, unicast);
            if (ack == null) {
                System.out.println("TIMEOUT ack");
                return;
            }
            print("ACK", ack);
        }
    }

    private static DatagramChannel open(InetSocketAddress address) throws IOException {
        DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
        c.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        c.setOption(StandardSocketOptions.SO_BROADCAST, true);
        c.bind(address);
        c.configureBlocking(false);
        return c;
    }

    private static DhcpPacket await(int xid, MessageType type, DatagramChannel... channels) throws IOException {
        long deadline = System.currentTimeMillis() + 4000;
        try (Selector selector = Selector.open()) {
            for (DatagramChannel c : channels) {
                c.register(selector, SelectionKey.OP_READ);
            }
            ByteBuffer buffer = ByteBuffer.allocate(DhcpPacket.MAX_LENGTH);
            while (System.currentTimeMillis() < deadline) {
                selector.select(Math.max(1, deadline - System.currentTimeMillis()));
                for (SelectionKey key : selector.selectedKeys()) {
                    buffer.clear();
                    if (((DatagramChannel) key.channel()).receive(buffer) == null) {
                        continue;
                    }
                    try {
                        DhcpPacket p = DhcpPacket.decode(buffer.array(), buffer.position());
                        if (p.op() == DhcpPacket.BOOTREPLY && p.xid() == xid && p.messageType().orElse(null) == type) {
                            return p;
                        }
                    } catch (DhcpDecodeException e) {
                        System.out.println("MALFORMED " + e.getMessage());
                    }
                }
                selector.selectedKeys().clear();
            }
        }
        return null;
    }

    private static void print(String what, DhcpPacket p) {
        System.out.println(what + " yiaddr=" + p.yiaddr().getHostAddress() + " siaddr=" + p.siaddr().getHostAddress()
                + " file=" + p.file() + " vendor=" + p.vendorClass().orElse("")
                + " pxe43=" + DhcpPacket.hex(p.option(DhcpOption.VENDOR_ENCAPSULATED).orElse(new byte[0]))
                + " server=" + p.address(DhcpOption.SERVER_ID).map(a -> a.getHostAddress()).orElse(""));
        System.out.flush();
    }
}
