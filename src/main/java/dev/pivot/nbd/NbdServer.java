package dev.pivot.nbd;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.EventSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Listens for NBD clients and serves each connection on its own thread with blocking socket IO. At most
 * {@link NbdConfig#maxConnections} connections are served at once; one more is closed on arrival with a log line.
 *
 * <p>Connection threads are platform threads with small stacks, not virtual ones: a client that waits for each
 * reply (a kernel client reading 4 KiB blocks) makes every request a round trip, and a virtual thread blocked on
 * its socket is woken by the poller and then scheduled onto a carrier, two hand-offs per request where a platform
 * thread has none (bench/nbd-vs-peers.sh, 4 KiB random reads). The bound on connections bounds the threads.
 */
public final class NbdServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(NbdServer.class);
    private static final long CONNECTION_STACK_BYTES = 256 * 1024;

    private final NbdConfig config;
    private final NbdExports exports;
    private final AddressBook addresses;
    private final EventSink events;
    private final Semaphore slots;
    private final Set<NbdConnection> open = ConcurrentHashMap.newKeySet();
    private final NbdConnection.Counters counters = new NbdConnection.Counters();
    private final ExportFiles files = new ExportFiles();
    private final AtomicLong refused = new AtomicLong();
    private ServerSocketChannel listener;
    private Thread acceptor;
    private ScheduledExecutorService deadlines;

    public NbdServer(NbdConfig config, NbdExports exports, AddressBook addresses, EventSink events) {
        this.config = config;
        this.exports = exports;
        this.addresses = addresses;
        this.events = events;
        this.slots = new Semaphore(config.maxConnections());
    }

    /** Binds the listener; throws naming the address when it cannot. */
    public synchronized void start() throws IOException {
        if (listener != null) {
            throw new IllegalStateException("NBD server already started");
        }
        ServerSocketChannel channel = ServerSocketChannel.open();
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            channel.bind(new InetSocketAddress(config.bind(), config.port()), 128);
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot listen for NBD on " + config.bind().getHostAddress() + ":" + config.port()
                    + ": " + e.getMessage(), e);
        }
        listener = channel;
        deadlines = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon(true).name("nbd-deadlines").factory());
        acceptor = Thread.ofPlatform().daemon(true).name("nbd-accept").start(this::accept);
        log.info("NBD: listening on {} ({} exports)", channel.getLocalAddress(), exports.names().size());
    }

    public InetSocketAddress address() throws IOException {
        return (InetSocketAddress) listener.getLocalAddress();
    }

    private void accept() {
        while (listener.isOpen()) {
            SocketChannel client;
            try {
                client = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                // EMFILE and the like: say so and keep accepting once descriptors are back.
                log.warn("NBD: accept failed: {}", e.toString());
                pause();
                continue;
            }
            if (!slots.tryAcquire()) {
                refused.incrementAndGet();
                log.warn("NBD: refused a connection from {}: {} connections open (the limit)", remote(client),
                        config.maxConnections());
                closeQuietly(client);
                continue;
            }
            try {
                NbdConnection connection = new NbdConnection(client, exports, files, addresses, events, counters,
                        deadlines, config.handshakeTimeout());
                open.add(connection);
                Thread.ofPlatform().daemon(true).stackSize(CONNECTION_STACK_BYTES).name("nbd-" + remote(client))
                        .start(() -> {
                    try {
                        connection.run();
                    } finally {
                        open.remove(connection);
                        slots.release();
                    }
                });
            } catch (Throwable t) {
                slots.release();
                closeQuietly(client);
                log.error("NBD: cannot serve a connection from {}", remote(client), t);
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

    static String remote(SocketChannel c) {
        try {
            return String.valueOf(c.getRemoteAddress());
        } catch (IOException e) {
            return "?";
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /** Connections being served now. */
    public int connections() {
        return open.size();
    }

    /** Bytes sent in read replies since start. */
    public long bytesRead() {
        return counters.bytesRead.sum();
    }

    /** Read requests answered since start. */
    public long reads() {
        return counters.reads.sum();
    }

    /** Connections closed for breaking the protocol. */
    public long malformed() {
        return counters.malformed.get();
    }

    /** Connections closed on arrival because every slot was taken. */
    public long refused() {
        return refused.get();
    }

    /** Stops listening and closes every connection (kernel clients see the server go, and reconnect). */
    @Override
    public synchronized void close() throws IOException {
        if (listener == null) {
            return;
        }
        listener.close();
        for (NbdConnection c : open) {
            c.stop();
        }
        deadlines.shutdownNow();
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("NBD: stopped");
    }
}
