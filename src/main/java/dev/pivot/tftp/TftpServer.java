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
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A read-only TFTP server. Every read runs on its own ephemeral-port channel (its TID), and all of them are driven
 * by a few event loops ({@link TftpLoop}: one selector thread each, half the CPUs, at least one), with their
 * retransmission timers in the loop: a transfer costs a socket and its window of blocks, never a thread. The
 * listener has a thread of its own that only reads requests and refuses or hands them on: how fast requests are
 * taken off its socket must not depend on how busy the transfers keep the loops, or a burst overflows the socket's
 * receive buffer and is lost uncounted. Only resolving a requested name runs elsewhere, on a virtual thread per request (a generated file may ask
 * the store, which must not stall the loops); the quota bounds how many. Write requests are refused with ERROR 2.
 *
 * <p>Bounded ({@link TftpLimits}): transfers at once in total and per client address, each window's memory, and a
 * transfer whose client never acknowledged anything is given up after a few seconds. A request over a limit gets
 * ERROR 0 "server busy" from the listener (one small packet, no socket) and is counted in {@link Refusals}; PXE
 * ROMs and iPXE retry on their own.
 */
public final class TftpServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TftpServer.class);

    private final TftpConfig config;
    private final TftpFiles files;
    private final AddressBook addresses;
    private final EventSink events;
    private final Refusals refusals;
    private final Quota<InetAddress> quota;
    /** Running transfers by client TID: a retransmitted RRQ for a running transfer must not start a second one. */
    private final Map<InetSocketAddress, Running> running = new ConcurrentHashMap<>();
    private final int loopCount;
    /** Asked of the kernel for the listener: a burst of requests waits here while the listener thread catches up. */
    static final int LISTENER_RECEIVE_BUFFER = 4 << 20;

    private DatagramChannel listener;
    private Thread listenerThread;
    private List<TftpLoop> loops;

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
        this.loopCount = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    }

    /** Binds the listener; throws when the port cannot be bound (in use, or 69 without privileges). */
    public synchronized void start() throws IOException {
        if (listener != null) {
            throw new IllegalStateException("TFTP server already started");
        }
        DatagramChannel channel = DatagramChannel.open();
        try {
            // The kernel caps this at net.core.rmem_max (then doubles it); more than its default either way.
            channel.setOption(java.net.StandardSocketOptions.SO_RCVBUF, LISTENER_RECEIVE_BUFFER);
            channel.bind(new InetSocketAddress(config.bind(), config.port()));
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot listen for TFTP on " + config.bind().getHostAddress() + ":" + config.port()
                    + ": " + e.getMessage(), e);
        }
        List<TftpLoop> opened;
        try {
            opened = TftpLoop.open(loopCount);
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        listener = channel;
        loops = opened;
        loops.forEach(TftpLoop::start);
        listenerThread = Thread.ofPlatform().daemon(true).name("tftp-listener").start(this::listen);
        log.info("TFTP: listening on {} serving {} ({} event loop{})", channel.getLocalAddress(), files.roots(),
                loops.size(), loops.size() == 1 ? "" : "s");
    }

    /** The bound listener address (useful with port 0). */
    public InetSocketAddress address() throws IOException {
        return (InetSocketAddress) listener.getLocalAddress();
    }

    /** The listener thread: takes each request as it arrives, until the channel closes. */
    private void listen() {
        ByteBuffer buffer = ByteBuffer.allocate(TftpCodec.MAX_PACKET);
        while (true) {
            InetSocketAddress from;
            try {
                buffer.clear();
                from = (InetSocketAddress) listener.receive(buffer);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException | RuntimeException | Error e) {
                if (!listener.isOpen()) {
                    return;
                }
                // Nothing a client sends ends the listener; a pause keeps a lasting fault from spinning the thread.
                log.warn("TFTP: listener receive failed: {}", e.toString());
                pause();
                continue;
            }
            try {
                handle(buffer.array(), buffer.position(), from);
            } catch (Throwable t) {
                // A bug triggered by one packet, or a passing OutOfMemoryError (a transfer refused for want of
                // memory), must not stop the listener for everyone else.
                log.error("TFTP: unexpected error handling a packet from {}", from, t);
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
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
            log.debug("TFTP: retransmitted request from {} for a running transfer", from);
            current.transfer().requestRepeated();
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
        TftpLoop loop = leastLoaded();
        loop.load().incrementAndGet();
        Running[] entry = new Running[1];
        Runnable onEnd = () -> {
            running.remove(from, entry[0]);
            quota.release(source);
            loop.load().decrementAndGet();
        };
        ReadTransfer transfer;
        try {
            transfer = new ReadTransfer(config, files, addresses, events, from, request, loop, onEnd);
        } catch (IOException e) {
            loop.load().decrementAndGet();
            quota.release(source);
            refusals.refuse("tftp_socket", source, "cannot open a transfer socket: " + e);
            return;
        }
        entry[0] = new Running(request, transfer);
        running.put(from, entry[0]);
        // A virtual thread per request, bounded by the quota: it only resolves the name and opens the content.
        Thread.ofVirtual().name("tftp-prepare").start(transfer::prepare);
    }

    private TftpLoop leastLoaded() {
        TftpLoop best = loops.getFirst();
        for (TftpLoop loop : loops) {
            if (loop.load().get() < best.load().get()) {
                best = loop;
            }
        }
        return best;
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
        try {
            listenerThread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (TftpLoop loop : loops) {
            loop.close();
        }
        log.info("TFTP: stopped");
    }
}
