package dev.pivot.tftp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The transfer state machine driven by a scripted client on loopback: every packet the server sends is seen, so
 * retransmissions, duplicate-ACK handling, windows and block-number rollover can be asserted exactly.
 */
class TftpTransferTest {

    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    static final MacAddress MAC = MacAddress.parse("52:54:00:01:02:03");
    /** Long enough that nothing is retransmitted by timeout while a test watches for duplicate-ACK effects. */
    static final Duration TIMEOUT = Duration.ofMillis(400);
    static final int QUIET_MS = 200;

    @TempDir
    Path root;
    TftpServer server;
    InetSocketAddress listener;
    final List<BootEvent> events = new CopyOnWriteArrayList<>();
    DatagramSocket client;

    @BeforeEach
    void start() throws Exception {
        startServer(new TftpConfig(LOOPBACK, 0, List.of(root), 1468, 64, TIMEOUT, TIMEOUT, TIMEOUT, 3,
                Duration.ofMillis(1000), TIMEOUT));
        client = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
    }

    /** The server under test, serving {@link #root} with {@code config}, its client known by {@link #MAC}. */
    private void startServer(TftpConfig config) throws Exception {
        AddressBook book = new AddressBook();
        book.learn(LOOPBACK, MAC);
        server = new TftpServer(config, TftpFiles.of(List.of(root)), book, events::add);
        server.start();
        listener = server.address();
    }

    /** For a test that needs settings of its own: the server started before it makes way for one with these. */
    private void restartWith(TftpConfig config) throws Exception {
        server.close();
        startServer(config);
    }

    @AfterEach
    void stop() throws Exception {
        client.close();
        server.close();
    }

    byte[] file(String name, int size) throws Exception {
        byte[] bytes = new byte[size];
        new Random(size).nextBytes(bytes);
        Files.write(root.resolve(name), bytes);
        return bytes;
    }

    void send(TftpPacket packet, InetSocketAddress to) throws Exception {
        byte[] b = TftpCodec.encode(packet);
        client.send(new DatagramPacket(b, b.length, to));
    }

    record Received(TftpPacket packet, InetSocketAddress from) { }

    Received receive(int timeoutMs) throws Exception {
        byte[] buffer = new byte[70000];
        DatagramPacket datagram = new DatagramPacket(buffer, buffer.length);
        client.setSoTimeout(timeoutMs);
        try {
            client.receive(datagram);
        } catch (SocketTimeoutException e) {
            return null;
        }
        return new Received(TftpCodec.decode(buffer, datagram.getLength()),
                (InetSocketAddress) datagram.getSocketAddress());
    }

    Received expect(int timeoutMs) throws Exception {
        Received r = receive(timeoutMs);
        assertThat(r).as("a packet within %d ms", timeoutMs).isNotNull();
        return r;
    }

    static int dataBlock(Received r) {
        assertThat(r.packet()).isInstanceOf(TftpPacket.Data.class);
        return ((TftpPacket.Data) r.packet()).block();
    }

    @Test
    void lockStepTransferCompletesAndEmitsAnEvent() throws Exception {
        byte[] content = file("five.bin", 512 * 4 + 100);
        send(new TftpPacket.ReadRequest("five.bin", "octet", Map.of()), listener);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int block = 1; ; block++) {
            Received r = expect(2000);
            assertThat(r.from().getPort()).as("transfers use their own port").isNotEqualTo(listener.getPort());
            TftpPacket.Data data = (TftpPacket.Data) r.packet();
            assertThat(data.block()).isEqualTo(block);
            got.write(data.payload());
            send(new TftpPacket.Ack(block), r.from());
            if (data.payload().length < 512) {
                break;
            }
        }
        assertThat(got.toByteArray()).isEqualTo(content);
        awaitEvents();
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.failed()).isFalse();
            assertThat(e.detail()).isEqualTo("five.bin");
            assertThat(e.bytes()).isEqualTo(content.length);
            assertThat(e.mac()).isEqualTo(MAC);
        });
    }

    /** A client whose timer fired repeats its request: it lacks the OACK, which goes again at once, same TID. */
    @Test
    void aRepeatedRequestIsAnsweredAtOnce() throws Exception {
        file("again.bin", 512 * 3);
        TftpPacket.ReadRequest request = new TftpPacket.ReadRequest("again.bin", "octet", Map.of("tsize", "0"));
        send(request, listener);
        Received oack = expect(2000);
        assertThat(oack.packet()).isInstanceOf(TftpPacket.OptionAck.class);
        long start = System.nanoTime();
        send(request, listener);
        Received again = expect(2000);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(again.packet()).isInstanceOf(TftpPacket.OptionAck.class);
        assertThat(again.from()).as("the running transfer answers, no second one").isEqualTo(oack.from());
        assertThat(millis).as("answered before the server's own timeout").isLessThan(TIMEOUT.toMillis() / 2);
        send(new TftpPacket.Ack(0), oack.from());
        assertThat(dataBlock(expect(2000))).isEqualTo(1);
        assertThat(server.runningTransfers()).isEqualTo(1);
    }

    /**
     * A client never heard from after its request is given up early and without an ERROR (a live client whose
     * answers were all lost then starts afresh with its next repeat); one that repeats its request is alive.
     */
    @Test
    void aClientNeverHeardFromIsGivenUpSilentlyAndARepeatKeepsOneAlive() throws Exception {
        file("quiet.bin", 512 * 3);
        TftpConfig quick = new TftpConfig(LOOPBACK, 0, List.of(root), 1468, 64, TIMEOUT, TIMEOUT, TIMEOUT, 3,
                Duration.ofMillis(1000), TIMEOUT, new TftpLimits(256, 8, 96 * 1024, Duration.ofMillis(1200)));
        restartWith(quick);

        TftpPacket.ReadRequest request = new TftpPacket.ReadRequest("quiet.bin", "octet", Map.of());
        send(request, listener);
        InetSocketAddress tid = expect(2000).from();
        long start = System.nanoTime();
        while (server.runningTransfers() > 0 && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5)) {
            Received r = receive(100);
            if (r != null) {
                assertThat(r.packet()).as("only DATA while waiting; no ERROR at the give-up").isInstanceOf(
                        TftpPacket.Data.class);
            }
        }
        assertThat(server.runningTransfers()).as("given up within 5 s").isZero();
        while (receive(QUIET_MS) != null) {
            // retransmissions still in the socket buffer
        }

        // The same request again: a fresh transfer, kept alive past the give-up by repeats.
        send(request, listener);
        InetSocketAddress fresh = expect(2000).from();
        assertThat(fresh).isNotEqualTo(tid);
        long repeatsUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2500);
        while (System.nanoTime() < repeatsUntil) {
            send(request, listener);
            while (receive(50) != null) {
                // DATA 1 again, answered to each repeat
            }
            Thread.sleep(300);
        }
        assertThat(server.runningTransfers()).as("a client that repeats its request is not given up").isEqualTo(1);
        send(new TftpPacket.Ack(1), fresh);
        Received second = expect(2000);
        assertThat(dataBlock(second)).isEqualTo(2);
    }

    /**
     * A client that has block 1 but lost every ACK it sent answers again only on its own timer (tftp-hpa: 5 s after
     * the last packet it got), to the transfer's port. The copy whose wait would end past the handshake give-up is
     * the last, and the wait after it is longer than that timer, so the late ACK still finds the transfer.
     */
    @Test
    void aClientWhoseAcksWereAllLostIsHeardOnItsOwnTimerBeforeTheGiveUp() throws Exception {
        file("late.bin", 512 * 3);
        Duration quiet = Duration.ofMillis(1500);
        TftpConfig config = new TftpConfig(LOOPBACK, 0, List.of(root), 1468, 64, TIMEOUT, TIMEOUT, TIMEOUT, 3,
                Duration.ofSeconds(20), quiet, new TftpLimits(256, 8, 96 * 1024, Duration.ofMillis(1000)));
        restartWith(config);

        send(new TftpPacket.ReadRequest("late.bin", "octet", Map.of()), listener);
        Received first = expect(2000);
        assertThat(dataBlock(first)).isEqualTo(1);
        // Every ACK to the copies is "lost": say nothing until the copies stop for longer than the fast retries'
        // 400 ms, then answer as the client's timer would, 700 ms after the last copy. (Retransmissions from the
        // second on also carry block 2, the probe.)
        int copies = 1;
        while (receive(700) instanceof Received again) {
            if (dataBlock(again) == 1) {
                copies++;
            }
        }
        send(new TftpPacket.Ack(1), first.from());
        Received second = expect(2000);
        assertThat(dataBlock(second)).as("the transfer goes on after %d unanswered copies", copies).isEqualTo(2);
        assertThat(copies).as("copies at 0 and 0.4 s, then the last one at 0.8 s").isEqualTo(3);
    }

    /**
     * A client whose round trip grows past the timeout measured so far (a virtual machine that slows down
     * mid-transfer), acknowledging every copy it gets as real clients do: once both copies of a block were
     * acknowledged, the retransmission was needless and its back-off is kept until the longer round trip is
     * measured, so only the first blocks after the change go twice, not every block from then on.
     */
    @Test
    void aRoundTripThatGrowsPastTheTimeoutIsLearnedNotPaidForEveryBlock() throws Exception {
        TftpConfig adaptive = new TftpConfig(LOOPBACK, 0, List.of(root), 1468, 64, Duration.ofMillis(10),
                Duration.ofSeconds(2), Duration.ofMillis(10), 6, Duration.ofSeconds(20), Duration.ofSeconds(6));
        restartWith(adaptive);
        int blocks = 40;
        file("slow.bin", 512 * blocks + 1);
        java.util.concurrent.ScheduledExecutorService late = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor();
        try {
            send(new TftpPacket.ReadRequest("slow.bin", "octet", Map.of()), listener);
            int dataPackets = 0;
            int next = 1;
            while (next <= blocks + 1) {
                Received r = expect(5000);
                dataPackets++;
                int block = dataBlock(r);
                if (block > next) {
                    continue; // a probe past what the client has: dropped, as clients do
                }
                if (block == next) {
                    next++;
                }
                // Every copy is acknowledged; from block 4 on, 60 ms late.
                InetSocketAddress tid = r.from();
                Runnable ack = () -> {
                    try {
                        send(new TftpPacket.Ack(block), tid);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                };
                if (block > 3) {
                    late.schedule(ack, 60, TimeUnit.MILLISECONDS);
                } else {
                    ack.run();
                }
            }
            int resent = dataPackets - (blocks + 1);
            System.out.printf("TFTP: ACKs 60 ms late: %d DATA packets sent again for %d blocks%n", resent,
                    blocks - 3);
            assertThat(resent).as("DATA sent again for %d blocks whose ACK came 60 ms late", blocks - 3)
                    .isLessThan(12);
        } finally {
            late.shutdownNow();
        }
    }

    @Test
    void duplicateAcksDoNotDoubleTrafficWithWindowsizeOne() throws Exception {
        file("dup.bin", 512 * 3);
        send(new TftpPacket.ReadRequest("dup.bin", "octet", Map.of()), listener);
        Received first = expect(2000);
        assertThat(dataBlock(first)).isEqualTo(1);
        send(new TftpPacket.Ack(1), first.from());
        send(new TftpPacket.Ack(1), first.from());
        send(new TftpPacket.Ack(1), first.from());
        assertThat(dataBlock(expect(2000))).isEqualTo(2);
        assertThat(receive(QUIET_MS)).as("no resend of block 2 for duplicate ACKs of block 1").isNull();
    }

    @Test
    void duplicateAcksDoNotPostponeTheRetransmission() throws Exception {
        file("late.bin", 512 * 3);
        send(new TftpPacket.ReadRequest("late.bin", "octet", Map.of()), listener);
        Received first = expect(2000);
        send(new TftpPacket.Ack(1), first.from());
        assertThat(dataBlock(expect(2000))).isEqualTo(2);
        long start = System.nanoTime();
        Received again = null;
        while (again == null && System.nanoTime() - start < 3 * TIMEOUT.toNanos()) {
            send(new TftpPacket.Ack(1), first.from());   // a client nagging with its old ACK
            again = receive(TIMEOUT.toMillisPart() / 4);
        }
        long waitedMs = (System.nanoTime() - start) / 1_000_000;
        assertThat(again).as("block 2 is resent although duplicate ACKs keep arriving").isNotNull();
        assertThat(dataBlock(again)).isEqualTo(2);
        assertThat(waitedMs).isBetween(TIMEOUT.toMillis() - 50, TIMEOUT.toMillis() + 250);
    }

    @Test
    void aLostFinalAckAfterEveryOtherBlockWasAcknowledgedIsNotAFailedBoot() throws Exception {
        byte[] content = file("three.bin", 512 * 2 + 10);
        send(new TftpPacket.ReadRequest("three.bin", "octet", Map.of()), listener);
        for (int block = 1; block <= 2; block++) {
            Received r = expect(2000);
            assertThat(dataBlock(r)).isEqualTo(block);
            send(new TftpPacket.Ack(block), r.from());
        }
        int lastCopies = 0;
        Received r;
        while ((r = receive(3000)) != null && r.packet() instanceof TftpPacket.Data data) {
            assertThat(data.block()).isEqualTo(3);
            lastCopies++; // the client got it, and (as if its ACK were lost) says nothing
        }
        assertThat(lastCopies).as("first send + 3 retries").isEqualTo(4);
        assertEndedAsSentWithoutTheFinalAck(r, "three.bin", content.length);
    }

    /** No ERROR went out, and the one event is a transfer sent, not failed, its final ACK not seen. */
    void assertEndedAsSentWithoutTheFinalAck(Received last, String name, int length) throws Exception {
        assertThat(last).as("no ERROR for a transfer the client most likely finished").isNull();
        awaitEvents();
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.failed()).isFalse();
            assertThat(e.detail()).isEqualTo(name + " (final ACK not seen)");
            assertThat(e.bytes()).isEqualTo(length);
        });
    }

    /**
     * The last block can reach the client as a probe before the block in front of it is acknowledged: a client
     * that has everything acknowledges both and moves on, and when both ACKs are lost nothing more is heard. A
     * client lacking a block would say so on its own timer; silence through the whole stall means it is done.
     */
    @Test
    void aFinalBlockDeliveredAsAProbeWhoseAcksWereLostIsNotAFailedBoot() throws Exception {
        byte[] content = file("probed.bin", 512 * 2 + 10);   // blocks 1..3, the last one short
        readAndAckBlockOne("probed.bin");
        boolean lastSent = false;
        Received r;
        while ((r = receive(3000)) != null && r.packet() instanceof TftpPacket.Data data) {
            lastSent |= data.block() == 3;   // the client has blocks 2 and 3 now and, its ACKs lost, says nothing
        }
        assertThat(lastSent).as("block 3 went out as a probe").isTrue();
        assertEndedAsSentWithoutTheFinalAck(r, "probed.bin", content.length);
    }

    /** Asks for {@code name} without options and acknowledges block 1; returns the transfer's address. */
    InetSocketAddress readAndAckBlockOne(String name) throws Exception {
        send(new TftpPacket.ReadRequest(name, "octet", Map.of()), listener);
        InetSocketAddress tid = expect(2000).from();
        send(new TftpPacket.Ack(1), tid);
        return tid;
    }

    /** A client that keeps saying it lacks a block is not taken for one that has the file. */
    @Test
    void aClientRepeatingItsAckThroughTheStallIsAFailureNotAFinish() throws Exception {
        file("lacking.bin", 512 * 2 + 10);
        InetSocketAddress tid = readAndAckBlockOne("lacking.bin");
        Received r;
        while ((r = receive(3000)) != null && r.packet() instanceof TftpPacket.Data) {
            send(new TftpPacket.Ack(1), tid);   // every copy lost on the way: "I still have only block 1"
        }
        assertThat(r).isNotNull();
        assertThat(r.packet()).isInstanceOfSatisfying(TftpPacket.Error.class,
                e -> assertThat(e.message()).contains("no ACK for block 2"));
        awaitEvents();
        assertThat(events).singleElement().satisfies(e -> assertThat(e.failed()).isTrue());
    }

    @Test
    void silenceIsAnsweredByRetransmissionThenGivingUp() throws Exception {
        file("lost.bin", 100);
        send(new TftpPacket.ReadRequest("lost.bin", "octet", Map.of()), listener);
        int copies = 0;
        Received r;
        while ((r = receive(3000)) != null && r.packet() instanceof TftpPacket.Data data) {
            assertThat(data.block()).isEqualTo(1);
            copies++;
        }
        assertThat(copies).as("first send + 3 retries").isEqualTo(4);
        assertThat(r).isNotNull();
        assertThat(r.packet()).isInstanceOfSatisfying(TftpPacket.Error.class,
                e -> assertThat(e.message()).contains("no ACK"));
        awaitEvents();
        assertThat(events).singleElement().satisfies(e -> assertThat(e.failed()).isTrue());
    }

    @Test
    void windowResendsFromTheBlockAfterAnEarlierAckOnce() throws Exception {
        byte[] content = file("win.bin", 8 * 12 + 4); // 13 blocks of 8 bytes, the last one short
        send(new TftpPacket.ReadRequest("win.bin", "octet", Map.of("blksize", "8", "windowsize", "4")), listener);
        Received oack = expect(2000);
        assertThat(oack.packet()).isEqualTo(new TftpPacket.OptionAck(Map.of("blksize", "8", "windowsize", "4")));
        InetSocketAddress tid = oack.from();
        Map<Integer, byte[]> blocks = new java.util.TreeMap<>();
        send(new TftpPacket.Ack(0), tid);
        assertBlocks(blocks, 1, 4);
        send(new TftpPacket.Ack(2), tid);            // "block 3 was lost"
        assertBlocks(blocks, 3, 6);
        send(new TftpPacket.Ack(2), tid);            // the same again: resend once
        assertBlocks(blocks, 3, 6);
        send(new TftpPacket.Ack(2), tid);            // and again: ignored
        assertThat(receive(QUIET_MS)).isNull();
        send(new TftpPacket.Ack(6), tid);
        assertBlocks(blocks, 7, 10);
        send(new TftpPacket.Ack(10), tid);
        assertBlocks(blocks, 11, 13);
        send(new TftpPacket.Ack(13), tid);
        assertThat(receive(QUIET_MS)).as("nothing after the final ACK").isNull();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        blocks.values().forEach(got::writeBytes);
        assertThat(got.toByteArray()).isEqualTo(content);
    }

    @Test
    void aSecondRetransmissionCarriesTheNextBlockForAClientWhoseAckWasLost() throws Exception {
        byte[] content = file("probe.bin", 512 * 5 + 7);   // blocks 1..6, the last one short
        send(new TftpPacket.ReadRequest("probe.bin", "octet", Map.of()), listener);
        Received first = expect(2000);
        assertThat(dataBlock(first)).isEqualTo(1);
        InetSocketAddress tid = first.from();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        got.write(((TftpPacket.Data) first.packet()).payload());
        send(new TftpPacket.Ack(1), tid);
        Received second = expect(2000);
        assertThat(dataBlock(second)).isEqualTo(2);
        got.write(((TftpPacket.Data) second.packet()).payload());
        // The client's ACK of block 2 is lost; like busybox it ignores repeats of block 2 and waits for block 3.
        assertThat(dataBlock(expect(2000))).as("first retransmission: the block alone").isEqualTo(2);
        assertThat(dataBlock(expect(2000))).as("second retransmission").isEqualTo(2);
        Received probe = expect(200);
        assertThat(dataBlock(probe)).as("the probe right after it").isEqualTo(3);
        got.write(((TftpPacket.Data) probe.packet()).payload());
        send(new TftpPacket.Ack(3), tid);
        Received fourth = expect(2000);
        assertThat(dataBlock(fourth)).isEqualTo(4);
        got.write(((TftpPacket.Data) fourth.packet()).payload());
        // It took the probe and answered no repeat: from now on the first retransmission already probes.
        assertThat(dataBlock(expect(2000))).isEqualTo(4);
        Received fifth = expect(200);
        assertThat(dataBlock(fifth)).isEqualTo(5);
        got.write(((TftpPacket.Data) fifth.packet()).payload());
        send(new TftpPacket.Ack(5), tid);
        Received sixth = expect(2000);
        assertThat(dataBlock(sixth)).isEqualTo(6);
        got.write(((TftpPacket.Data) sixth.packet()).payload());
        send(new TftpPacket.Ack(6), tid);
        assertThat(receive(QUIET_MS)).as("nothing after the final ACK").isNull();
        assertThat(got.toByteArray()).isEqualTo(content);
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.failed()).isFalse();
            assertThat(e.bytes()).isEqualTo(content.length);
        });
    }

    void assertBlocks(Map<Integer, byte[]> into, int from, int to) throws Exception {
        for (int b = from; b <= to; b++) {
            Received r = expect(2000);
            assertThat(dataBlock(r)).isEqualTo(b);
            into.put(b, ((TftpPacket.Data) r.packet()).payload());
        }
    }

    @Test
    void blockNumbersWrapAfter65535() throws Exception {
        int blocks = 65536 + 10;
        byte[] content = file("wrap.bin", 8 * blocks + 3);
        send(new TftpPacket.ReadRequest("wrap.bin", "octet", Map.of("blksize", "8", "windowsize", "64")), listener);
        Received oack = expect(2000);
        InetSocketAddress tid = oack.from();
        send(new TftpPacket.Ack(0), tid);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long expected = 1;
        int sinceAck = 0;
        boolean sawZero = false;
        while (true) {
            TftpPacket.Data data = (TftpPacket.Data) expect(2000).packet();
            assertThat(data.block()).isEqualTo((int) (expected & 0xFFFF));
            sawZero |= data.block() == 0;
            got.write(data.payload());
            boolean lastBlock = data.payload().length < 8;
            if (++sinceAck == 64 || lastBlock) {
                send(new TftpPacket.Ack(data.block()), tid);
                sinceAck = 0;
            }
            if (lastBlock) {
                break;
            }
            expected++;
        }
        assertThat(sawZero).isTrue();
        assertThat(expected).isEqualTo(blocks + 1);
        assertThat(got.toByteArray()).isEqualTo(content);
    }

    @Test
    void packetsFromAStrangerGetUnknownTid() throws Exception {
        file("tid.bin", 1000);
        send(new TftpPacket.ReadRequest("tid.bin", "octet", Map.of()), listener);
        Received first = expect(2000);
        try (DatagramSocket stranger = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0))) {
            byte[] ack = TftpCodec.encode(new TftpPacket.Ack(1));
            stranger.send(new DatagramPacket(ack, ack.length, first.from()));
            byte[] buffer = new byte[600];
            DatagramPacket answer = new DatagramPacket(buffer, buffer.length);
            stranger.setSoTimeout(2000);
            stranger.receive(answer);
            assertThat(TftpCodec.decode(buffer, answer.getLength())).isInstanceOfSatisfying(TftpPacket.Error.class,
                    e -> assertThat(e.code()).isEqualTo(TftpPacket.Error.UNKNOWN_TID));
        }
        send(new TftpPacket.Ack(1), first.from());
        assertThat(dataBlock(expect(2000))).as("the transfer goes on").isEqualTo(2);
    }

    @Test
    void errorsForWritesBadOptionsModesAndStrayOpcodes() throws Exception {
        file("f.bin", 10);
        send(new TftpPacket.WriteRequest("f.bin", "octet", Map.of()), listener);
        assertThat(expect(2000).packet()).isInstanceOfSatisfying(TftpPacket.Error.class,
                e -> assertThat(e.code()).isEqualTo(TftpPacket.Error.ACCESS_VIOLATION));
        send(new TftpPacket.ReadRequest("f.bin", "octet", Map.of("blksize", "4")), listener);
        assertThat(expect(2000).packet()).isInstanceOfSatisfying(TftpPacket.Error.class,
                e -> assertThat(e.code()).isEqualTo(TftpPacket.Error.OPTION_REFUSED));
        send(new TftpPacket.ReadRequest("f.bin", "mail", Map.of()), listener);
        assertThat(expect(2000).packet()).isInstanceOfSatisfying(TftpPacket.Error.class,
                e -> assertThat(e.code()).isEqualTo(TftpPacket.Error.ILLEGAL_OPERATION));
        send(new TftpPacket.Ack(1), listener);
        assertThat(expect(2000).packet()).isInstanceOfSatisfying(TftpPacket.Error.class,
                e -> assertThat(e.code()).isEqualTo(TftpPacket.Error.ILLEGAL_OPERATION));
        send(new TftpPacket.ReadRequest("missing.bin", "octet", Map.of()), listener);
        assertThat(expect(2000).packet()).isInstanceOfSatisfying(TftpPacket.Error.class,
                e -> assertThat(e.code()).isEqualTo(TftpPacket.Error.FILE_NOT_FOUND));
    }

    @Test
    void malformedPacketsDoNotStopTheServer() throws Exception {
        file("after.bin", 10);
        for (byte[] junk : List.of(new byte[] {0}, new byte[] {0, 1, 'x'}, new byte[] {0, 99}, new byte[0])) {
            client.send(new DatagramPacket(junk, junk.length, listener));
        }
        send(new TftpPacket.ReadRequest("after.bin", "octet", Map.of()), listener);
        Received r = expect(2000);
        assertThat(((TftpPacket.Data) r.packet()).payload()).hasSize(10);
    }

    @Test
    void clientAbortAfterOackIsNotAFailure() throws Exception {
        file("probe.bin", 5000);
        send(new TftpPacket.ReadRequest("probe.bin", "octet", Map.of("tsize", "0")), listener);
        Received oack = expect(2000);
        assertThat(oack.packet()).isEqualTo(new TftpPacket.OptionAck(Map.of("tsize", "5000")));
        send(new TftpPacket.Error(TftpPacket.Error.OPTION_REFUSED, "just probing the size"), oack.from());
        assertThat(receive(QUIET_MS)).isNull();
        assertThat(events).isEmpty();
    }

    @Test
    void netasciiIsConvertedOnTheFly() throws Exception {
        Files.writeString(root.resolve("text.cfg"), "a\nb\rc");
        send(new TftpPacket.ReadRequest("text.cfg", "netascii", Map.of("tsize", "0")), listener);
        Received r = expect(2000);
        assertThat(((TftpPacket.Data) r.packet()).payload()).containsExactly('a', '\r', '\n', 'b', '\r', 0, 'c');
    }

    /** The transfer's event is sent from the server's thread after its last packet: wait for it, within 10 s. */
    private void awaitEvents() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (events.isEmpty()) {
            assertThat(System.nanoTime()).as("an event within 10 s").isLessThan(deadline);
            Thread.sleep(10);
        }
    }
}
