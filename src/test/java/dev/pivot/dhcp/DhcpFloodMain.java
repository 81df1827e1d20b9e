package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A DISCOVER flood from made-up MACs, run inside a test's client namespace: COUNT DISCOVERs, each from a random
 * locally administered MAC, spread evenly over MILLIS, broadcast from CLIENT_IP; then it listens one more second.
 * Prints {@code SENT n OFFERS m ADDRESSES k} (offers seen for its MACs, and how many distinct addresses they named).
 * Bounded in count and time by its arguments.
 *
 * <p>Arguments: {@code CLIENT_IP COUNT MILLIS}.
 */
public final class DhcpFloodMain {

    public static void main(String[] args) throws Exception {
        var clientIp = Ipv4.parse(args[0]);
        int count = Math.min(Integer.parseInt(args[1]), 20_000);
        long millis = Math.min(Long.parseLong(args[2]), 60_000);
        Set<Integer> ours = new HashSet<>();
        Set<String> addresses = new HashSet<>();
        int offers = 0;
        try (DatagramChannel send = open(new InetSocketAddress(clientIp, 0));
             DatagramChannel replies = open(new InetSocketAddress(DhcpPacket.ZERO, 68))) {
            ByteBuffer buffer = ByteBuffer.allocate(DhcpPacket.MAX_LENGTH);
            long start = System.nanoTime();
            long end = start + millis * 1_000_000L + 1_000_000_000L;
            int sent = 0;
            while (System.nanoTime() < end) {
                long due = start + (millis * 1_000_000L) * sent / Math.max(1, count);
                if (sent < count && System.nanoTime() >= due) {
                    byte[] mac = new byte[6];
                    ThreadLocalRandom.current().nextBytes(mac);
                    mac[0] = (byte) ((mac[0] & 0xfc) | 0x02); // locally administered, unicast
                    int xid = ThreadLocalRandom.current().nextInt();
                    ours.add(xid);
                    DhcpPacket discover = DhcpPacket.builder().mac(MacAddress.of(mac)).xid(xid)
                            .type(MessageType.DISCOVER).build();
                    send.send(ByteBuffer.wrap(discover.encode()), new InetSocketAddress(DhcpPacket.BROADCAST, 67));
                    sent++;
                    continue;
                }
                buffer.clear();
                if (replies.receive(buffer) != null || send.receive(buffer) != null) {
                    try {
                        DhcpPacket p = DhcpPacket.decode(buffer.array(), buffer.position());
                        if (ours.contains(p.xid()) && p.messageType().orElse(null) == MessageType.OFFER) {
                            offers++;
                            addresses.add(p.yiaddr().getHostAddress());
                        }
                    } catch (DhcpDecodeException ignored) {
                        // not a reply of ours
                    }
                } else {
                    Thread.onSpinWait();
                }
            }
            System.out.println("SENT " + sent + " OFFERS " + offers + " ADDRESSES " + addresses.size());
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
}
