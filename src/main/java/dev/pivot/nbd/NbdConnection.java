package dev.pivot.nbd;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.EventSink;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
import dev.pivot.nbd.codec.ExportRequest;
import dev.pivot.nbd.codec.MalformedNbdException;
import dev.pivot.nbd.codec.NbdProtocol;
import dev.pivot.nbd.codec.NbdRequest;
import dev.pivot.nbd.codec.OptionHeader;
import dev.pivot.nbd.codec.Replies;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One client: the fixed newstyle handshake, then requests answered one at a time until it disconnects.
 *
 * <p>A client that waits for each answer (one reader, 4 KiB at random) sends its next request within microseconds
 * of getting the reply, and being woken from a blocking read costs about as much again: so after a reply the thread
 * polls the socket for the next request (how many bytes wait, without reading) for up to {@link #SPIN_NANOS}
 * before it blocks, but only while polling pays. A poll that finds nothing costs spin credit, and so does one that
 * finds the request there at once (the read would not have blocked: the poll was one call more); one that finds it
 * after waiting earns credit back; without credit the connection blocks at once and tries polling again every
 * {@link #RETRY_SPIN_EVERY} requests (on a busy host the client is not scheduled in time, and a client with pauses
 * gains nothing). At most half the CPUs poll at once ({@link #SPINNERS}).
 */
final class NbdConnection {

    private static final Logger log = LoggerFactory.getLogger(NbdConnection.class);
    /** What a refused write's data is read into and dropped from, a slice at a time. */
    static final int SKIP_BUFFER_BYTES = 64 * 1024;
    static final short TRANSMISSION_FLAGS = NbdProtocol.FLAG_HAS_FLAGS | NbdProtocol.FLAG_READ_ONLY
            | NbdProtocol.FLAG_SEND_FLUSH | NbdProtocol.FLAG_CAN_MULTI_CONN;
    static final int PREFERRED_BLOCK = 4096;
    /** How long a connection polls for the next request after a reply before it blocks. */
    static final long SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(50);
    static final int MAX_SPIN_CREDIT = 8, RETRY_SPIN_EVERY = 256;
    /** Connections polling at once: half the CPUs, so that polling never takes the CPU the clients need. */
    static final Semaphore SPINNERS = new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));

    /**
     * Server-wide counters, read by the metrics. The per-read ones are adders: every connection's thread adds to them
     * on every request, and one shared atomic would move its cache line between the cores each time.
     */
    static final class Counters {
        final LongAdder bytesRead = new LongAdder();
        final LongAdder reads = new LongAdder();
        final AtomicLong malformed = new AtomicLong();
    }

    private final SocketChannel channel;
    /** The channel's stream, used only to ask how many bytes wait (FIONREAD) while polling. */
    private final InputStream waiting;
    private int spinCredit = MAX_SPIN_CREDIT / 2;
    private int requestsWithoutSpin;
    private final NbdExports exports;
    private final ExportFiles files;
    private final AddressBook addresses;
    private final EventSink events;
    private final Counters counters;
    private final String peer;
    private final InetSocketAddress remote;
    private final ScheduledFuture<?> handshakeDeadline;
    private volatile boolean handshakeExpired;
    private boolean noZeroes;
    private long served;

    NbdConnection(SocketChannel channel, NbdExports exports, ExportFiles files, AddressBook addresses,
                  EventSink events, Counters counters, ScheduledExecutorService deadlines, Duration handshakeTimeout) throws IOException {
        this.channel = channel;
        this.exports = exports;
        this.files = files;
        this.addresses = addresses;
        this.events = events;
        this.counters = counters;
        this.peer = NbdServer.remote(channel);
        this.remote = channel.getRemoteAddress() instanceof InetSocketAddress r ? r : null;
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        this.waiting = channel.socket().getInputStream();
        this.handshakeDeadline = deadlines.schedule(() -> {
            handshakeExpired = true;
            stop();
        }, handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    void run() {
        Optional<NbdExports.Export> export = Optional.empty();
        String ended = "disconnected";
        try {
            export = handshake();
            if (export.isPresent()) {
                handshakeDeadline.cancel(false);
                ended = transmit(export.get());
            }
        } catch (MalformedNbdException e) {
            counters.malformed.incrementAndGet();
            ended = "closed: " + e.getMessage();
            log.warn("NBD: closed the connection from {}: {}", peer, e.getMessage());
        } catch (IOException e) {
            if (handshakeExpired) {
                counters.malformed.incrementAndGet();
                ended = "handshake not finished in time";
                log.warn("NBD: closed the connection from {}: handshake not finished in time", peer);
            } else {
                ended = e instanceof EOFException ? "client closed the connection" : "connection lost: " + e.getMessage();
                log.debug("NBD: connection from {} ended: {}", peer, e.toString());
            }
        } catch (RuntimeException e) {
            ended = "server error: " + e;
            log.error("NBD: unexpected error serving {}", peer, e);
        } finally {
            handshakeDeadline.cancel(false);
            close();
        }
        if (export.isPresent()) {
            String name = export.get().name();
            String detail = "nbd: export " + shortName(name) + " detached after " + served + " bytes read (" + ended
                    + ")";
            emit(mac -> BootEvent.ok(mac, Step.ROOT_IMAGE, detail, 0).withFile(name));
        }
    }

    /**
     * Ends the connection from another thread (the handshake deadline, the server stopping): shuts the socket down,
     * which wakes the connection's thread from a blocked read or send; that thread closes the descriptor itself
     * (see {@link ReplySender} why only it may).
     */
    void stop() {
        try {
            channel.shutdownInput();
            channel.shutdownOutput();
        } catch (IOException ignored) {
            // not connected any more: the connection's thread is ending anyway
        }
    }

    private void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    // ---- handshake ------------------------------------------------------------------------------------------

    /** The export to serve, or empty when the client aborted. */
    private Optional<NbdExports.Export> handshake() throws IOException, MalformedNbdException {
        write(Replies.greeting());
        ByteBuffer clientFlags = readFully(4);
        int flags = clientFlags.getInt();
        int known = NbdProtocol.FLAG_C_FIXED_NEWSTYLE | NbdProtocol.FLAG_C_NO_ZEROES;
        if ((flags & ~known) != 0) {
            throw new MalformedNbdException(String.format("client flags 0x%08x: unknown bits", flags));
        }
        noZeroes = (flags & NbdProtocol.FLAG_C_NO_ZEROES) != 0;
        while (true) {
            OptionHeader header = OptionHeader.decode(readFully(NbdProtocol.OPTION_HEADER_BYTES));
            byte[] data = new byte[header.length()];
            readFully(ByteBuffer.wrap(data));
            int option = header.option();
            switch (option) {
                case NbdProtocol.OPT_EXPORT_NAME -> {
                    String name = nameOrInvalid(data);
                    Optional<NbdExports.Export> export = name == null ? Optional.empty() : exports.find(name);
                    if (export.isEmpty()) {
                        // This option cannot be answered with an error: the spec's way is to hang up.
                        throw new MalformedNbdException("NBD_OPT_EXPORT_NAME for unknown export '"
                                + printable(name == null ? "?" : name) + "'");
                    }
                    write(Replies.exportNameReply(export.get().size(), TRANSMISSION_FLAGS, noZeroes));
                    return attached(export.get());
                }
                case NbdProtocol.OPT_ABORT -> {
                    write(Replies.ack(option));
                    return Optional.empty();
                }
                case NbdProtocol.OPT_LIST -> {
                    if (data.length != 0) {
                        write(Replies.error(option, NbdProtocol.REP_ERR_INVALID, "NBD_OPT_LIST takes no data"));
                        continue;
                    }
                    for (String name : exports.names()) {
                        write(Replies.server(name));
                    }
                    write(Replies.ack(option));
                }
                case NbdProtocol.OPT_INFO, NbdProtocol.OPT_GO -> {
                    ExportRequest request;
                    try {
                        request = ExportRequest.parse(data);
                    } catch (ExportRequest.InvalidOption e) {
                        write(Replies.error(option, NbdProtocol.REP_ERR_INVALID, e.getMessage()));
                        continue;
                    }
                    Optional<NbdExports.Export> export = exports.find(request.name());
                    if (export.isEmpty()) {
                        log.info("NBD: {} asked for unknown export '{}'", peer, printable(request.name()));
                        write(Replies.error(option, NbdProtocol.REP_ERR_UNKNOWN,
                                "no export '" + printable(request.name()) + "'"));
                        continue;
                    }
                    NbdExports.Export e = export.get();
                    if (request.infoRequests().contains((int) NbdProtocol.INFO_NAME)) {
                        write(Replies.infoName(option, e.name()));
                    }
                    if (request.infoRequests().contains((int) NbdProtocol.INFO_BLOCK_SIZE)) {
                        write(Replies.infoBlockSize(option, 1, PREFERRED_BLOCK, NbdProtocol.MAX_PAYLOAD));
                    }
                    write(Replies.infoExport(option, e.size(), TRANSMISSION_FLAGS));
                    write(Replies.ack(option));
                    if (option == NbdProtocol.OPT_GO) {
                        return attached(e);
                    }
                }
                default -> write(Replies.error(option, NbdProtocol.REP_ERR_UNSUP,
                        "option " + option + " is not supported"));
            }
        }
    }

    private static String nameOrInvalid(byte[] data) {
        try {
            return ExportRequest.exportName(data);
        } catch (ExportRequest.InvalidOption e) {
            return null;
        }
    }

    private Optional<NbdExports.Export> attached(NbdExports.Export export) {
        handshakeDeadline.cancel(false);
        emit(mac -> BootEvent.ok(mac, Step.ROOT_IMAGE, "nbd: export " + shortName(export.name()) + " attached ("
                + export.size() + " bytes, read-only)", 0).withFile(export.name()));
        return Optional.of(export);
    }

    // ---- transmission ---------------------------------------------------------------------------------------

    /** Answers requests until the client disconnects; returns how it ended. */
    private String transmit(NbdExports.Export export) throws IOException, MalformedNbdException {
        ByteBuffer header = ByteBuffer.allocateDirect(NbdProtocol.REQUEST_BYTES);
        ByteBuffer reply = ByteBuffer.allocateDirect(NbdProtocol.SIMPLE_REPLY_BYTES);
        try (ExportFiles.Open image = files.acquire(export.file(), export.size());
             ReplySender replies = new ReplySender(channel, NbdProtocol.SIMPLE_REPLY_BYTES)) {
            while (true) {
                header.clear();
                pollForRequest();
                readFully(header);
                header.flip();
                NbdRequest request = NbdRequest.decode(header);
                switch (request.type()) {
                    case NbdProtocol.CMD_READ -> read(image, replies, export, request, reply);
                    case NbdProtocol.CMD_DISC -> {
                        return "NBD_CMD_DISC";
                    }
                    case NbdProtocol.CMD_FLUSH -> simple(reply, 0, request.cookie());
                    case NbdProtocol.CMD_WRITE -> {
                        skip(request.length());
                        simple(reply, NbdProtocol.EPERM, request.cookie());
                    }
                    case NbdProtocol.CMD_TRIM, NbdProtocol.CMD_WRITE_ZEROES ->
                            simple(reply, NbdProtocol.EPERM, request.cookie());
                    default -> simple(reply, NbdProtocol.EINVAL, request.cookie());
                }
            }
        }
    }

    /** The reply header, then the bytes straight from the image file (see {@link ReplySender}). */
    private void read(ExportFiles.Open image, ReplySender replies, NbdExports.Export export, NbdRequest request,
                      ByteBuffer reply) throws IOException {
        if (request.length() > NbdProtocol.MAX_PAYLOAD || !request.within(export.size())) {
            simple(reply, NbdProtocol.EINVAL, request.cookie());
            return;
        }
        Replies.simpleReply(replies.header(), 0, request.cookie());
        replies.reply(image.descriptor(), request.offset(), request.length());
        served += request.length();
        counters.bytesRead.add(request.length());
        counters.reads.increment();
    }

    /** Reads and drops a write's data, so the next request header is where the client put it. */
    private void skip(long length) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(length, SKIP_BUFFER_BYTES));
        long left = length;
        while (left > 0) {
            scratch.clear();
            scratch.limit((int) Math.min(left, scratch.capacity()));
            readFully(scratch);
            left -= scratch.limit();
        }
    }

    private void simple(ByteBuffer reply, int error, long cookie) throws IOException {
        reply.clear();
        Replies.simpleReply(reply, error, cookie);
        reply.flip();
        write(reply);
    }

    // ---- IO ---------------------------------------------------------------------------------------------------

    private ByteBuffer readFully(int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        readFully(b);
        return b.flip();
    }

    /** Polls for the next request while that pays (see the class comment); the read that follows takes it. */
    private void pollForRequest() throws IOException {
        if (spinCredit <= 0 && ++requestsWithoutSpin < RETRY_SPIN_EVERY) {
            return;
        }
        requestsWithoutSpin = 0;
        if (!SPINNERS.tryAcquire()) {
            return;
        }
        boolean caught = false;
        int empty = 0;
        try {
            long until = System.nanoTime() + SPIN_NANOS;
            do {
                if (waiting.available() > 0) {
                    caught = true;
                    break;
                }
                empty++;
                Thread.onSpinWait();
            } while (System.nanoTime() - until < 0);
        } finally {
            SPINNERS.release();
        }
        if (caught && empty == 0) {
            // The request was there already (a busy host, a client with requests in flight): the read would not
            // have blocked, and the poll was a call for nothing.
            spinCredit = Math.max(0, spinCredit - 1);
        } else {
            spinCredit = caught ? Math.min(MAX_SPIN_CREDIT, spinCredit + 1) : Math.max(0, spinCredit - 2);
        }
    }

    private void readFully(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (channel.read(b) < 0) {
                throw new EOFException("end of stream");
            }
        }
    }

    private void write(ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    private void emit(java.util.function.Function<MacAddress, BootEvent> event) {
        if (remote != null) {
            addresses.macOf(remote.getAddress()).ifPresent(mac -> events.emit(
                    event.apply(mac).withAddress(remote.getAddress().getHostAddress())));
        }
    }

    private static String shortName(String name) {
        return name.length() > 12 ? name.substring(0, 12) : name;
    }

    /** Names come from the network: what a log line shows of them is bounded and printable. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().limit(80).forEach(c -> b.append(c < 0x20 || c == 0x7f ? '?' : Character.toString(c)));
        return s.length() > 80 ? b + "…" : b.toString();
    }
}
