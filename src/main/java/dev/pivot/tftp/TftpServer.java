package dev.pivot.tftp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.EventSink;
import dev.pivot.boot.Quota;
import dev.pivot.boot.Refusals;
import dev.pivot.boot.Step;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A read-only TFTP server. The listener on the configured port only decodes requests; every read runs on its
 * own ephemeral-port channel in its own thread, so the number of concurrent transfers is bounded by memory (one
 * window of blocks and a small stack each), not by a thread pool's size. Write requests are refused with ERROR 2.
 *
 * <p>Transfer threads are platform threads, not virtual ones, on purpose: lock-step TFTP is one round trip per
 * block, and a virtual thread blocked on a socket is woken by the poller thread and then scheduled onto a carrier,
 * two thread hand-offs per ACK where a platform thread has none. bench/tftp-vs-peers.sh measured it: 64 MiB
 * lock-step went from 0.26–0.40x of tftpd-hpa to 0.84–1.44x. Their stacks are small because a transfer's call
 * depth is. They are kept for a minute after a transfer and reused (an unbounded cached pool): starting a thread
 * put 0.35–0.55 ms before every transfer's first answer (a small file's whole fetch is ~13 ms with curl). The
 * listener is a platform thread for the same hand-offs.
 *
 * <p>Bounded ({@link TftpLimits}): transfers at once in total and per client address, each window's memory, and a
 * transfer whose client never acknowledged anything is given up after a few seconds. A request over a limit gets
 * ERROR 0 "server busy" from the listener (one small packet, no socket, no thread) and is counted in
 * {@link Refusals}; PXE ROMs and iPXE retry on their own.
 */
public final class TftpServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TftpServer.class);
    private static final long TRANSFER_STACK_BYTES = 256 * 1024;
    private static final long IDLE_TRANSFER_THREAD_SECONDS = 60;

    private final TftpConfig config;
    private final TftpFiles files;
    private final AddressBook addresses;
    private final EventSink events;
    private final Refusals refusals;
    private final Quota<InetAddress> quota;
    /** Running transfers by client TID: a retransmitted RRQ for a running transfer must not start a second one. */
    private final Map<InetSocketAddress, Running> running = new ConcurrentHashMap<>();
    private DatagramChannel listener;
    private Thread listenerThread;
    private ExecutorService transfers;

    private record Running(TftpPacket.ReadRequest request, ReadTransfer transfer) { }

    public TftpServer(TftpConfig config, TftpFiles files, AddressBook addresses, EventSink events) {
        this(config, files, addresses, events, new Refusals());
    }

    public TftpServer(TftpConfig config, TftpFiles files, AddressBook addresses, EventSink events,
                      Refusals refusals) {
        this.refusals = refusals;
        this.quota = new Quota<>(config.limits().transfers(), config.limits().perClient());
        this.config = config;
        this.files = files;
        this.addresses = addresses;
        this.events = events;
    }

    /** Binds the listener; throws when the port cannot be bound (in use, or 69 without privileges). */
    public synchronized void start() throws IOException {
        if (listener != null) {
            throw new IllegalStateException("TFTP server already started");
        }
        DatagramChannel channel = DatagramChannel.open();
        try {
            channel.bind(new InetSocketAddress(config.bind(), config.port()));
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot listen for TFTP on " + config.bind().getHostAddress() + ":" + config.port()
                    + ": " + e.getMessage(), e);
        }
        listener = channel;
        // As many threads as transfers may run (the quota admits no more), and a few for a transfer whose thread is
        // still on its way back to the pool. Idle threads end after a minute.
        transfers = new ThreadPoolExecutor(0, config.limits().transfers() + 16, IDLE_TRANSFER_THREAD_SECONDS,
                TimeUnit.SECONDS,
                new SynchronousQueue<>(), Thread.ofPlatform().daemon(true).stackSize(TRANSFER_STACK_BYTES)
                        .name("tftp-transfer-", 1).factory());
        listenerThread = Thread.ofPlatform().daemon(true).name("tftp-listener").start(this::listen);
        log.info("TFTP: listening on {} serving {}", channel.getLocalAddress(), files.roots());
    }

    /** The bound listener address (useful with port 0). */
    public InetSocketAddress address() throws IOException {
        return (InetSocketAddress) listener.getLocalAddress();
    }

    private void listen() {
        ByteBuffer buffer = ByteBuffer.allocate(TftpCodec.MAX_PACKET);
        while (listener.isOpen()) {
            InetSocketAddress from;
            try {
                buffer.clear();
                from = (InetSocketAddress) listener.receive(buffer);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                log.warn("TFTP: listener receive failed: {}", e.toString());
                continue;
            }
            buffer.flip();
            try {
                handle(buffer.array(), buffer.limit(), from);
            } catch (Throwable t) {
                // A bug triggered by one packet, or a passing OutOfMemoryError (a transfer refused for want of a
                // thread or memory), must not stop the listener for everyone else.
                log.error("TFTP: unexpected error handling a packet from {}", from, t);
            }
        }
    }

    private void handle(byte[] bytes, int length, InetSocketAddress from) {
        TftpPacket packet;
        try {
            packet = TftpCodec.decode(bytes, length);
        } catch (MalformedPacketException e) {
            log.warn("TFTP: dropped a malformed packet from {}: {}", from, e.getMessage());
            return;
        }
        switch (packet) {
            case TftpPacket.ReadRequest request -> startRead(request, from);
            case TftpPacket.WriteRequest write -> {
                String name = TftpFiles.printable(write.filename());
                log.warn("TFTP: refused write of '{}' from {}: this server is read-only", name, from);
                replyFromListener(new TftpPacket.Error(TftpPacket.Error.ACCESS_VIOLATION,
                        "this server is read-only"), from);
                addresses.macOf(from.getAddress()).ifPresent(mac -> events.emit(
                        BootEvent.failed(mac, Step.TFTP, name + ": write refused (read-only server)").withFile(name)));
            }
            case TftpPacket.Error error -> log.info("TFTP: ERROR {} from {} on the listener port, ignored",
                    error.code(), from);
            default -> {
                log.warn("TFTP: {} from {} on the listener port: illegal operation",
                        packet.getClass().getSimpleName(), from);
                replyFromListener(new TftpPacket.Error(TftpPacket.Error.ILLEGAL_OPERATION,
                        "only read requests are accepted here"), from);
            }
        }
    }

    private void startRead(TftpPacket.ReadRequest request, InetSocketAddress from) {
        Running current = running.get(from);
        if (current != null && current.request().equals(request)) {
            log.debug("TFTP: retransmitted request from {} for a running transfer, ignored", from);
            return;
        }
        InetAddress source = from.getAddress();
        Quota.Verdict verdict = quota.tryAcquire(source);
        if (verdict != Quota.Verdict.GRANTED) {
            refuseBusy(from, verdict == Quota.Verdict.TOTAL ? "tftp_transfers_total" : "tftp_transfers_per_client",
                    verdict == Quota.Verdict.TOTAL ? config.limits().transfers() + " transfers running"
                            : quota.perSource() + " transfers running for this client");
            return;
        }
        ReadTransfer transfer;
        try {
            transfer = new ReadTransfer(config, files, addresses, events, from, request);
        } catch (IOException e) {
            quota.release(source);
            refusals.refuse("tftp_socket", source, "cannot open a transfer socket: " + e);
            return;
        }
        Running entry = new Running(request, transfer);
        running.put(from, entry);
        try {
            transfers.execute(() -> {
                try {
                    transfer.run();
                } finally {
                    running.remove(from, entry);
                    quota.release(source);
                }
            });
        } catch (RejectedExecutionException e) {
            running.remove(from, entry);
            quota.release(source);
            try {
                transfer.stop();
            } catch (IOException ignored) {
                // the socket was never used
            }
            refuseBusy(from, "tftp_threads", "no transfer thread free");
        }
    }

    private void refuseBusy(InetSocketAddress from, String kind, String why) {
        refusals.refuse(kind, from.getAddress().getHostAddress(), "TFTP read request refused: " + why);
        replyFromListener(new TftpPacket.Error(TftpPacket.Error.NOT_DEFINED, "server busy, try again"), from);
    }

    /** How many transfers run right now (for tests and the log). */
    public int runningTransfers() {
        return running.size();
    }

    private void replyFromListener(TftpPacket packet, InetSocketAddress to) {
        try {
            listener.send(ByteBuffer.wrap(TftpCodec.encode(packet)), to);
        } catch (IOException e) {
            log.debug("TFTP: could not answer {}: {}", to, e.toString());
        }
    }

    /** Stops listening and ends running transfers (their sockets close; clients see a timeout). */
    @Override
    public synchronized void close() throws IOException {
        if (listener == null) {
            return;
        }
        listener.close();
        for (Running r : running.values()) {
            r.transfer().stop();
        }
        transfers.shutdown();
        try {
            listenerThread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("TFTP: stopped");
    }
}
