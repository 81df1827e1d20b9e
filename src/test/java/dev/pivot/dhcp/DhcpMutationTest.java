package dev.pivot.dhcp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.MacAddress;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Clock;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Bounded random mutation of the captured client packets (no Jazzer needed, so it runs in every {@code mvn test}):
 * bit flips, interesting bytes, truncation, insertion, duplication and splicing. Decoding may only ever throw
 * {@link DhcpDecodeException}; what decodes must pass through the responder without an exception; and a live
 * server fed a stream of such garbage keeps answering a well-formed request. The seed is fixed (reproducible) and
 * printed, or set with {@code -Dpivot.mutation.seed=N}; the failing input is printed as hex.
 */
class DhcpMutationTest {

    private static final List<byte[]> CAPTURED = List.of(Packets.raw("ipxe-bios"), Packets.raw("ovmf-pxe"),
            Packets.raw("udhcpc-plain"), Packets.raw("udhcpc-pxe"));
    private static final long SEED = Long.getLong("pivot.mutation.seed", 20261125L);
    private static final int ROUNDS = 30_000;
    private static final Inet4Address LOOPBACK = Ipv4.parse("127.0.0.1");

    @Test
    void mutatedPacketsOnlyEverFailAsDhcpDecodeExceptionAndNeverBreakTheResponder() {
        printSeed("mutatedPackets");
        Random random = new Random(SEED);
        DhcpConfig config = DhcpConfig.full(Ipv4.parse("10.77.0.1"), 8080,
                new DhcpConfig.Pool(Ipv4.parse("10.77.0.50"), Ipv4.parse("10.77.0.250"), 24));
        LeasePool pool = new LeasePool(config.pool().orElseThrow(), config.serverAddress(), new InMemoryLeaseStore(),
                Clock.systemUTC());
        DhcpResponder responder = new DhcpResponder(config, BootPolicy.ipxe(), new AddressBook(), event -> { },
                Optional.of(pool));
        int decoded = 0;
        int rejected = 0;
        for (int i = 0; i < ROUNDS; i++) {
            byte[] input = mutate(random);
            try {
                DhcpPacket packet = DhcpPacket.decode(input, input.length);
                decoded++;
                for (DhcpResponder.Port port : DhcpResponder.Port.values()) {
                    responder.handle(packet, new InetSocketAddress(Ipv4.parse("10.77.0.99"), 68), port)
                            .ifPresent(reply -> reply.packet().encode());
                }
            } catch (DhcpDecodeException expected) {
                rejected++;
            } catch (RuntimeException | Error e) {
                throw new AssertionError("seed " + SEED + " round " + i + ": " + e + " on input "
                        + HexFormat.of().formatHex(input), e);
            }
        }
        // Both paths exercised, or the mutations are too timid or too wild to mean anything.
        assertThat(decoded).as("decoded").isGreaterThan(ROUNDS / 10);
        assertThat(rejected).as("rejected").isGreaterThan(ROUNDS / 10);
    }

    @Test
    void aLiveServerFedGarbageKeepsAnswering() throws Exception {
        int base = ThreadLocalRandom.current().nextInt(20000, 60000);
        DhcpConfig config = DhcpConfig.full(LOOPBACK, 8080,
                new DhcpConfig.Pool(Ipv4.parse("127.0.0.50"), Ipv4.parse("127.0.0.60"), 8)).withPorts(base, base + 1, base + 2);
        printSeed("aLiveServer");
        Random random = new Random(SEED);
        try (DhcpServer server = new DhcpServer(config, BootPolicy.ipxe(), new AddressBook(), event -> { },
                new InMemoryLeaseStore());
             DatagramChannel client = DatagramChannel.open(StandardProtocolFamily.INET)) {
            server.start();
            client.bind(new InetSocketAddress(DhcpPacket.ZERO, base + 1));
            client.socket().setSoTimeout(1000);
            InetSocketAddress to = new InetSocketAddress(LOOPBACK, base);
            for (int burst = 0; burst < 10; burst++) {
                for (int i = 0; i < 300; i++) {
                    client.send(ByteBuffer.wrap(mutate(random)), to);
                }
                int xid = 1000 + burst;
                ByteBuffer inform = ByteBuffer.wrap(DhcpPacket.builder().mac(MacAddress.parse("52:54:00:00:00:31"))
                        .xid(xid).type(MessageType.INFORM).ciaddr(LOOPBACK).build().encode());
                // A burst can overflow the socket's receive buffer and the kernel drops what does not fit, the
                // request included; so, like a real client, retry a few times.
                Optional<MessageType> answer = Optional.empty();
                for (int attempt = 0; attempt < 5 && answer.isEmpty(); attempt++) {
                    client.send(inform.rewind(), to);
                    answer = awaitReply(client, xid);
                }
                assertThat(answer).as("burst %d", burst).contains(MessageType.ACK);
            }
        }
    }

    private static void printSeed(String test) {
        System.out.println("DhcpMutationTest." + test + " seed " + SEED + " (-Dpivot.mutation.seed=" + SEED
                + " replays it)");
    }

    /** Reads replies until the one for xid (mutated INFORMs may be answered too); empty on timeout. */
    private static Optional<MessageType> awaitReply(DatagramChannel client, int xid) throws Exception {
        byte[] buffer = new byte[2048];
        while (true) {
            DatagramPacket p = new DatagramPacket(buffer, buffer.length);
            try {
                client.socket().receive(p);
            } catch (SocketTimeoutException e) {
                return Optional.empty();
            }
            DhcpPacket reply = DhcpPacket.decode(buffer, p.getLength());
            if (reply.xid() == xid) {
                return reply.messageType();
            }
        }
    }

    private static byte[] mutate(Random random) {
        byte[] data = CAPTURED.get(random.nextInt(CAPTURED.size())).clone();
        int steps = 1 + random.nextInt(4);
        for (int s = 0; s < steps && data.length > 0; s++) {
            int at = random.nextInt(data.length);
            data = switch (random.nextInt(7)) {
                case 0 -> { data[at] ^= (byte) (1 << random.nextInt(8)); yield data; }
                case 1 -> { data[at] = (byte) new int[]{0, 1, 0x35, 0x34, 0x7f, 0x80, 0xfe, 0xff}[random.nextInt(8)]; yield data; }
                case 2 -> Arrays.copyOf(data, at);
                // Options start at 240: lengths there are what the decoder trusts least.
                case 3 -> { if (data.length > 241) { data[240 + random.nextInt(data.length - 240)] = (byte) random.nextInt(256); } yield data; }
                case 4 -> insert(data, at, randomBytes(random, 1 + random.nextInt(16)));
                case 5 -> insert(data, at, Arrays.copyOfRange(data, at, Math.min(data.length, at + 1 + random.nextInt(64))));
                default -> {
                    byte[] other = CAPTURED.get(random.nextInt(CAPTURED.size()));
                    int from = random.nextInt(other.length);
                    yield insert(Arrays.copyOf(data, at), at, Arrays.copyOfRange(other, from, other.length));
                }
            };
        }
        return data;
    }

    private static byte[] randomBytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static byte[] insert(byte[] data, int at, byte[] piece) {
        byte[] out = new byte[data.length + piece.length];
        System.arraycopy(data, 0, out, 0, at);
        System.arraycopy(piece, 0, out, at, piece.length);
        System.arraycopy(data, at, out, at + piece.length, data.length - at);
        return out;
    }
}
