package dev.pivot.tftp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.MacAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two thousand lock-step transfers in flight at once, each client holding its transfer open between blocks: they
 * all complete with the right bytes, and the server's platform threads do not grow with them (the event loops own
 * every transfer).
 */
class TftpManyTransfersTest {

    static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    static final int TRANSFERS = 2000;
    static final int BLOCKS = 5;
    static final int BATCH = 100;

    @TempDir
    Path root;
    TftpServer server;
    final List<BootEvent> events = new CopyOnWriteArrayList<>();
    final List<DatagramSocket> clients = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        AddressBook book = new AddressBook();
        book.learn(LOOPBACK, MacAddress.parse("52:54:00:0a:0b:0c"));
        // Timeouts far longer than a round over every client, so nothing here depends on retransmissions.
        Duration timeout = Duration.ofSeconds(60);
        TftpConfig config = new TftpConfig(LOOPBACK, 0, List.of(root), 1468, 64, timeout, timeout, timeout, 3,
                Duration.ofSeconds(120), timeout)
                .withLimits(new TftpLimits(TRANSFERS, TRANSFERS, 96 * 1024, Duration.ofSeconds(120)));
        server = new TftpServer(config, TftpFiles.of(List.of(root)), book, events::add);
        server.start();
    }

    @AfterEach
    void stop() throws Exception {
        clients.forEach(DatagramSocket::close);
        server.close();
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void thousandsOfConcurrentTransfersCostNoThreadEach() throws Exception {
        byte[] file = new byte[512 * (BLOCKS - 1) + 100];
        new Random(5).nextBytes(file);
        Files.write(root.resolve("small.bin"), file);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        int threadsBefore = threads.getThreadCount();
        InetSocketAddress listener = server.address();
        byte[] rrq = TftpCodec.encode(new TftpPacket.ReadRequest("small.bin", "octet", Map.of()));
        byte[][] received = new byte[TRANSFERS][file.length];
        SocketAddress[] tids = new SocketAddress[TRANSFERS];
        int peakRunning = 0;
        int peakThreads = 0;
        byte[] buffer = new byte[2048];
        // Requests in batches (a burst larger than the listener's receive buffer loses requests, and a real client
        // repeats its request after a timeout: so does this one), each client taking block 1 and holding it.
        for (int from = 0; from < TRANSFERS; from += BATCH) {
            for (int i = from; i < from + BATCH; i++) {
                DatagramSocket client = new DatagramSocket(new InetSocketAddress(LOOPBACK, 0));
                clients.add(client);
                client.send(new DatagramPacket(rrq, rrq.length, listener));
            }
            for (int i = from; i < from + BATCH; i++) {
                tids[i] = take(clients.get(i), 1, received[i], buffer, rrq, listener);
            }
        }
        // Then round by round: every client acknowledges its block and takes the next, so all transfers stay open
        // together until the last round.
        for (int block = 1; block <= BLOCKS; block++) {
            peakRunning = Math.max(peakRunning, server.runningTransfers());
            peakThreads = Math.max(peakThreads, threads.getThreadCount());
            byte[] ack = TftpCodec.encode(new TftpPacket.Ack(block));
            for (int i = 0; i < TRANSFERS; i++) {
                clients.get(i).send(new DatagramPacket(ack, ack.length, tids[i]));
            }
            if (block < BLOCKS) {
                for (int i = 0; i < TRANSFERS; i++) {
                    take(clients.get(i), block + 1, received[i], buffer, null, listener);
                }
            }
        }
        for (int i = 0; i < TRANSFERS; i++) {
            assertThat(Arrays.equals(received[i], file)).as("bytes of transfer %d", i).isTrue();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (events.size() < TRANSFERS || server.runningTransfers() > 0) {
            assertThat(System.nanoTime()).as("every transfer ended and reported").isLessThan(deadline);
            Thread.sleep(20);
        }
        assertThat(peakRunning).as("transfers in flight at once").isEqualTo(TRANSFERS);
        assertThat(events).noneMatch(BootEvent::failed);
        // The loops (half the CPUs) and whatever the JVM starts on its own; never one per transfer.
        assertThat(peakThreads - threadsBefore).as("platform threads added while %d transfers ran", TRANSFERS)
                .isLessThan(16);
        System.out.printf("%d transfers in flight at once; platform threads %d before, %d at the peak%n",
                peakRunning, threadsBefore, peakThreads);
    }

    /**
     * Takes DATA block {@code block} into {@code file} (an earlier block, a retransmission, is skipped) and returns
     * the server's TID. With {@code request}: until block 1 comes, the request is repeated every second, a few times.
     */
    static SocketAddress take(DatagramSocket client, int block, byte[] file, byte[] buffer, byte[] request,
                              InetSocketAddress listener) throws Exception {
        for (int attempt = 0; ; ) {
            DatagramPacket datagram = new DatagramPacket(buffer, buffer.length);
            try {
                client.setSoTimeout(request == null ? 10_000 : 1000);
                client.receive(datagram);
            } catch (java.net.SocketTimeoutException e) {
                if (request == null || ++attempt > 10) {
                    throw e;
                }
                client.send(new DatagramPacket(request, request.length, listener));
                continue;
            }
            TftpPacket.Data data = (TftpPacket.Data) TftpCodec.decode(buffer, datagram.getLength());
            if (data.block() < block) {
                continue;
            }
            assertThat(data.block()).isEqualTo(block);
            System.arraycopy(data.payload(), data.offset(), file, (block - 1) * 512, data.length());
            return datagram.getSocketAddress();
        }
    }
}
