package dev.pivot.tftp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.EventSink;
import dev.pivot.boot.Step;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.TimeUnit;

/**
 * One read transfer, from the request to the last ACK, on its own ephemeral port (the server's TID).
 *
 * <p>Sending follows RFC 7440's windows (windowsize 1 is plain RFC 1350 lock-step): send the blocks of the window,
 * wait for an ACK. An ACK for block k (k new) moves the window to k+1 and sends everything from k+1 that is not
 * yet acknowledged — for a window that is "the client lost k+1, resend from there". A duplicate ACK never triggers
 * a resend of its own with windowsize 1 (the Sorcerer's Apprentice bug doubles traffic exactly that way); with a
 * larger window, the first duplicate of an ACK resends from the block after it, once, because that is how an
 * RFC 7440 client says "nothing of your window arrived". Everything else waits for the timeout.
 *
 * <p>A retransmission that follows an unanswered one also probes (see {@link RetrySchedule}): after the window it
 * sends every block up to one past the highest block ever sent. The client can only be waiting for one of the
 * blocks sent this way (it has at most what we sent), and it takes them in order, so one such round brings it past
 * all of them whichever of our DATA or its ACKs were lost. Without it, clients that ignore repeated blocks
 * (busybox) or answer only one (atftp) wait for their own timer after a lost ACK. A client that takes blocks only in
 * order drops a probe that comes early like any stray packet (curl, tftp-hpa, atftp and busybox do; TftpLossIT runs
 * them all under loss). It is never sent before the client acknowledged the OACK.
 *
 * <p>Memory is one window of blocks and {@link #PROBE_SPAN} more; blocks are read sequentially from the content as
 * the window moves.
 * Block numbers are 16-bit on the wire and wrap from 65535 to 0 (what tftp-hpa, atftp and curl expect);
 * internally blocks are counted with a long.
 */
final class ReadTransfer implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(ReadTransfer.class);
    /**
     * How far past the window a probe reaches: each probing round that goes unanswered reaches one block further
     * (the client may have taken the last probe and lost its ACK), up to this.
     */
    static final int PROBE_SPAN = 4;

    private final TftpConfig config;
    private final TftpFiles files;
    private final AddressBook addresses;
    private final EventSink events;
    private final InetSocketAddress client;
    private final TftpPacket.ReadRequest request;
    private final DatagramChannel channel;
    private final ByteBuffer receiveBuffer = ByteBuffer.allocate(2048);
    /** Wakes this transfer's thread when a packet arrives; the channel is non-blocking so the thread can spin. */
    private final Selector selector;
    /** How long to spin for an ACK before sleeping: from the smoothed round trip, 0 until one is measured. */
    private long spinNanos;
    /** One DATA packet of the negotiated block size, set once the options are known. */
    private ByteBuffer dataBuffer;

    private int retransmissions;
    /** How often the fast retries went unanswered and the transfer waited for the client's own timer. */
    private int quietWaits;
    /** The last block went out but its ACK never came back (see sendAll). */
    private boolean finalAckMissing;
    /** True until the client acknowledged the OACK: an ERROR then is the client's choice, not a failure. */
    private boolean negotiating = true;

    /** Why a transfer stopped early: sent to the client when {@code tellClient}, always logged. */
    private static final class Abort extends Exception {
        final int code;
        final boolean tellClient;
        final boolean clientsChoice;

        Abort(int code, String message, boolean tellClient, boolean clientsChoice) {
            super(message, null, false, false);
            this.code = code;
            this.tellClient = tellClient;
            this.clientsChoice = clientsChoice;
        }
    }

    ReadTransfer(TftpConfig config, TftpFiles files, AddressBook addresses, EventSink events,
                 InetSocketAddress client, TftpPacket.ReadRequest request) throws IOException {
        this.config = config;
        this.files = files;
        this.addresses = addresses;
        this.events = events;
        this.client = client;
        this.request = request;
        this.channel = DatagramChannel.open();
        try {
            channel.bind(new InetSocketAddress(config.bind(), 0));
            channel.configureBlocking(false);
            this.selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Ends the transfer from another thread: closes its socket and wakes it if it sleeps. */
    void stop() throws IOException {
        channel.close();
        selector.wakeup();
    }

    @Override
    public void run() {
        String name = TftpFiles.printable(request.filename());
        long started = System.nanoTime();
        try {
            TftpFiles.Resolution resolution = files.resolve(request.filename(), client.getAddress());
            if (resolution instanceof TftpFiles.Refused refused) {
                if (refused.probe()) {
                    sendQuietly(new TftpPacket.Error(refused.errorCode(), refused.reason()));
                    log.debug("TFTP: '{}' asked by {}: {} (a probe its loader does without)", name, client,
                            refused.reason());
                    return;
                }
                throw new Abort(refused.errorCode(), refused.reason(), true, false);
            }
            TftpContent content = ((TftpFiles.Found) resolution).content();
            boolean netascii = switch (request.mode()) {
                case "octet" -> false;
                case "netascii" -> true;
                default -> throw new Abort(TftpPacket.Error.ILLEGAL_OPERATION,
                        "transfer mode '" + TftpFiles.printable(request.mode()) + "' is not supported", true, false);
            };
            TransferOptions options;
            try {
                options = TransferOptions.negotiate(request.options(), config, netascii ? -1 : content.size());
            } catch (TransferOptions.Refused e) {
                throw new Abort(TftpPacket.Error.OPTION_REFUSED, e.getMessage(), true, false);
            }
            try (TftpContent.Reader reader = netascii ? new NetasciiReader(content.open()) : content.open()) {
                Sender sender = new Sender(options, reader);
                sender.negotiate();
                long bytes = sender.sendAll();
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                log.info("TFTP: sent '{}' to {} ({} bytes, blksize {}, windowsize {}, {} ms, {} retransmissions, "
                                + "{} quiet waits, srtt {} µs{}{})", name, client, bytes, options.blockSize(),
                        options.windowSize(), millis, retransmissions, quietWaits, sender.rtt.smoothedNanos() / 1000,
                        sender.schedule.probes(1) ? ", client ignores repeated blocks" : "",
                        finalAckMissing ? ", final ACK not seen" : "");
                String detail = finalAckMissing ? name + " (final ACK not seen)" : name;
                addresses.macOf(client.getAddress()).ifPresentOrElse(
                        mac -> events.emit(BootEvent.ok(mac, Step.TFTP, detail, bytes).withFile(name)
                                .withAddress(client.getAddress().getHostAddress())),
                        () -> log.debug("TFTP: no MAC known for {}, no boot event", client.getAddress()));
            }
        } catch (Abort abort) {
            if (abort.tellClient) {
                sendQuietly(new TftpPacket.Error(abort.code, abort.getMessage()));
            }
            if (abort.clientsChoice) {
                // PXE firmware asks with tsize, reads the OACK and aborts on purpose before asking again.
                log.info("TFTP: {} ended the transfer of '{}': {}", client, name, abort.getMessage());
            } else {
                fail(name, abort.getMessage());
            }
        } catch (ClosedChannelException e) {
            log.info("TFTP: transfer of '{}' to {} stopped: server closing", name, client);
        } catch (IOException | RuntimeException e) {
            sendQuietly(new TftpPacket.Error(TftpPacket.Error.NOT_DEFINED, "server error"));
            fail(name, e.toString());
        } finally {
            try {
                channel.close();
                selector.close();
            } catch (IOException e) {
                log.debug("TFTP: closing the transfer socket: {}", e.toString());
            }
        }
    }

    private void fail(String name, String reason) {
        log.warn("TFTP: transfer of '{}' to {} failed: {}", name, client, reason);
        addresses.macOf(client.getAddress()).ifPresent(
                mac -> events.emit(BootEvent.failed(mac, Step.TFTP, name + ": " + reason).withFile(name)
                        .withAddress(client.getAddress().getHostAddress())));
    }

    /** The sending state of one transfer: a window of blocks, the RTT estimate and the retry count. */
    private final class Sender {
        final TransferOptions options;
        final TftpContent.Reader reader;
        final RttEstimator rtt;
        final RetrySchedule schedule;
        final int window;
        /** Slots for the window and the probes after it. */
        final int slots;
        final byte[][] blocks;
        final int[] lengths;
        final long[] sentAt;
        final boolean[] sent;
        final boolean[] resent;
        long lastSendAt;

        long base = 1;           // lowest block not yet acknowledged
        long loaded = 0;         // highest block read from the content
        long sendFrom = 1;       // next block to put on the wire
        long last = -1;          // the final (short) block, once read
        long duplicateResentFor = -1;
        long highestSent = 0;    // the highest block put on the wire so far
        long bytesAcked;

        Sender(TransferOptions options, TftpContent.Reader reader) {
            this.options = options;
            this.reader = reader;
            this.rtt = new RttEstimator(config.minTimeout(), config.maxTimeout(), config.initialTimeout());
            this.schedule = new RetrySchedule(rtt, config.quietTimeout().toNanos(), options.timeoutSeconds());
            this.window = options.windowSize();
            this.slots = window + PROBE_SPAN;
            this.blocks = new byte[slots][];
            this.lengths = new int[slots];
            this.sentAt = new long[slots];
            this.sent = new boolean[slots];
            this.resent = new boolean[slots];
            dataBuffer = ByteBuffer.allocateDirect(4 + options.blockSize());
        }

        /**
         * The client's timeout option (RFC 2349) is acknowledged but used only as an upper bound of the fast
         * retries: curl always asks for 5 s, and waiting that long for every lost packet on a LAN turned 1 MiB at
         * 5 % loss from seconds into minutes. Retransmitting earlier is harmless: duplicate DATA only makes the
         * client ACK again, and duplicate ACKs are ignored here. See {@link RetrySchedule} for the quiet phase.
         */
        long timeoutNanos(int retry) {
            return schedule.timeoutNanos(retry);
        }

        void sampleRtt(long nanos) {
            rtt.sample(nanos);
            spinNanos = AckSpin.budgetNanos(rtt.smoothedNanos());
        }

        /** Sends the OACK, when there is one, until the client acknowledges it with ACK 0. */
        void negotiate() throws IOException, Abort {
            if (options.acknowledged().isEmpty()) {
                negotiating = false;
                return;
            }
            TftpPacket.OptionAck oack = new TftpPacket.OptionAck(options.acknowledged());
            long started = System.nanoTime();
            for (int retry = 0; ; retry++) {
                long sent = System.nanoTime();
                send(oack);
                if (retry > 0) {
                    retransmissions++;
                }
                long deadline = sent + timeoutNanos(retry);
                TftpPacket.Ack ack;
                while ((ack = awaitAck(deadline)) != null) {
                    if (ack.block() == 0) {
                        schedule.answered();
                        if (retry == 0) {
                            sampleRtt(System.nanoTime() - sent);
                        }
                        negotiating = false;
                        return;
                    }
                }
                long waited = System.nanoTime() - started;
                if (waited >= config.limits().handshakeGiveUp().toNanos()
                        || (retry >= config.maxRetries() && waited >= config.giveUpAfter().toNanos())) {
                    throw new Abort(TftpPacket.Error.NOT_DEFINED, "no ACK for the OACK after "
                            + retry + " retransmissions", true, false);
                }
                schedule.timedOut();
            }
        }

        /** Sends every block; returns the bytes acknowledged. */
        long sendAll() throws IOException, Abort {
            int retry = 0;
            long deadline = 0;
            long lastProgress = System.nanoTime();
            while (true) {
                long through = retry > 0 && schedule.probes(retry)
                        ? Math.min(Math.max(highestSent, windowEnd()) + 1, windowEnd() + PROBE_SPAN) : windowEnd();
                fillThrough(through);
                if (sendWindow(through)) {
                    // Only a send restarts the clock: ignored packets (duplicate ACKs) must not postpone a resend.
                    deadline = lastSendAt + timeoutNanos(retry);
                }
                TftpPacket.Ack ack = awaitAck(deadline);
                if (ack == null) {
                    long stalledNanos = System.nanoTime() - lastProgress;
                    // Nothing acknowledged since the transfer began: give up early (TftpLimits.handshakeGiveUp).
                    boolean neverAcked = base == 1 && stalledNanos >= config.limits().handshakeGiveUp().toNanos();
                    if (neverAcked || (retry >= config.maxRetries() && stalledNanos >= config.giveUpAfter().toNanos())) {
                        if (last > 1 && base == last) {
                            // Every block but the last was acknowledged, and the last went out retry + 1 times: the
                            // client most likely has the file and has moved on, its final ACK lost (RFC 1350 §6
                            // leaves this open). Not a failed boot step; the log and the event say so.
                            finalAckMissing = true;
                            return bytesAcked + lengths[slot(last)];
                        }
                        throw new Abort(TftpPacket.Error.NOT_DEFINED, "no ACK for block " + base + " after "
                                + retry + " retransmissions in " + TimeUnit.NANOSECONDS.toMillis(stalledNanos)
                                + " ms", true, false);
                    }
                    retry++;
                    schedule.timedOut();
                    if (schedule.quiet(retry) && !schedule.quiet(retry - 1)) {
                        quietWaits++;
                        log.debug("TFTP: no answer to {} fast retries of block {} to {}; waiting {} ms for the "
                                + "client's own timer", retry - 1, base, client,
                                TimeUnit.NANOSECONDS.toMillis(schedule.timeoutNanos(retry)));
                    }
                    sendFrom = base;
                    continue;
                }
                long acked = absolute(ack.block());
                if (acked >= base && acked <= loaded) {
                    if (acked > windowEnd()) {
                        // A probe was taken and the repeated window before it was not answered.
                        schedule.probeAnsweredAlone();
                    }
                    int slot = slot(acked);
                    if (!resent[slot] && retry == 0) {
                        // Karn: only an ACK to a block sent once, before any timeout, measures the round trip. After
                        // a timeout it may answer a probe or come from the client's own timer (busybox re-ACKs
                        // after 100 ms): one such sample raised srtt from 20 µs to 12 ms at 20 % loss.
                        sampleRtt(System.nanoTime() - sentAt[slot]);
                    }
                    for (long b = base; b <= acked; b++) {
                        bytesAcked += lengths[slot(b)];
                    }
                    base = acked + 1;
                    retry = 0;
                    schedule.answered();
                    lastProgress = System.nanoTime();
                    if (acked == last) {
                        return bytesAcked;
                    }
                    // Blocks after the ACKed one that were already sent are resent: the client says it lacks them.
                    sendFrom = base;
                } else if (acked == base - 1 && window > 1 && duplicateResentFor != acked) {
                    duplicateResentFor = acked;
                    sendFrom = base;
                }
                // Any other ACK (a duplicate with windowsize 1, a stale one) is ignored: only the timeout resends.
            }
        }

        /** Maps a 16-bit ACK number into [base-1, base-1+65535]; the window is smaller, so this is unambiguous. */
        long absolute(int wireBlock) {
            long from = base - 1;
            return from + ((wireBlock - from) & 0xFFFF);
        }

        int slot(long block) {
            return (int) (block % slots);
        }

        /** The last block of the window, whether or not it is read yet. */
        long windowEnd() {
            return base + window - 1;
        }

        /** Reads blocks up to {@code through} (the window's end, or a probe's), unless the content ends before. */
        void fillThrough(long through) throws IOException {
            int blockSize = options.blockSize();
            while (last < 0 && loaded < through) {
                long block = loaded + 1;
                int slot = slot(block);
                if (blocks[slot] == null) {
                    blocks[slot] = new byte[blockSize];
                }
                int n = reader.read(blocks[slot], 0, blockSize);
                lengths[slot] = n;
                resent[slot] = false;
                sent[slot] = false;
                loaded = block;
                if (n < blockSize) {
                    last = block;
                }
            }
        }

        /**
         * Sends the window's blocks from sendFrom, then, in a round that sent any, the probes after the window up to
         * {@code through}; returns whether anything was sent (then lastSendAt says when).
         */
        boolean sendWindow(long through) throws IOException {
            boolean any = false;
            long end = Math.min(loaded, windowEnd());
            for (long block = sendFrom; block <= end; block++) {
                sendBlock(block);
                any = true;
            }
            sendFrom = end + 1;
            for (long block = end + 1; any && block <= Math.min(loaded, through); block++) {
                sendBlock(block);
            }
            return any;
        }

        void sendBlock(long block) throws IOException {
            int slot = slot(block);
            if (sent[slot]) {
                resent[slot] = true;
                retransmissions++;
            }
            sendData((int) (block & 0xFFFF), blocks[slot], lengths[slot]);
            highestSent = Math.max(highestSent, block);
            lastSendAt = System.nanoTime();
            sentAt[slot] = lastSendAt;
            sent[slot] = true;
        }
    }

    /**
     * Waits until {@code deadline} for an ACK from the client. Returns null on timeout. Packets from other
     * addresses get ERROR 5 (RFC 1350), malformed ones are logged and dropped, an ERROR from the client ends the
     * transfer.
     */
    private TftpPacket.Ack awaitAck(long deadline) throws IOException, Abort {
        while (true) {
            receiveBuffer.clear();
            SocketAddress from = receiveBefore(deadline);
            if (from == null) {
                return null;
            }
            TftpPacket packet;
            try {
                packet = TftpCodec.decode(receiveBuffer.array(), receiveBuffer.position());
            } catch (MalformedPacketException e) {
                log.warn("TFTP: dropped a malformed packet from {}: {}", from, e.getMessage());
                continue;
            }
            if (!client.equals(from)) {
                if (!(packet instanceof TftpPacket.Error)) {
                    log.info("TFTP: packet from unknown TID {} during a transfer to {}", from, client);
                    send(new TftpPacket.Error(TftpPacket.Error.UNKNOWN_TID, "unknown transfer ID"),
                            (InetSocketAddress) from);
                }
                continue;
            }
            switch (packet) {
                case TftpPacket.Ack ack -> {
                    return ack;
                }
                case TftpPacket.Error error -> throw new Abort(error.code(), "client sent ERROR " + error.code()
                        + " '" + TftpFiles.printable(error.message()) + "'", false, negotiating);
                default -> log.warn("TFTP: ignored {} from {} during a read",
                        packet.getClass().getSimpleName(), client);
            }
        }
    }

    /**
     * Receives one datagram into {@link #receiveBuffer}, or returns null at {@code deadline}. When the client
     * answers within a round trip or two, the wait spins on the non-blocking socket instead of sleeping (see
     * {@link AckSpin}): in lock-step, waking a sleeping thread costs about as much as the round trip itself.
     */
    private SocketAddress receiveBefore(long deadline) throws IOException {
        SocketAddress from = channel.receive(receiveBuffer);
        if (from != null) {
            return from;
        }
        long spinUntil = Math.min(deadline, System.nanoTime() + spinNanos);
        if (spinNanos > 0 && AckSpin.tryStart()) {
            try {
                while (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                    from = channel.receive(receiveBuffer);
                    if (from != null) {
                        return from;
                    }
                }
            } finally {
                AckSpin.end();
            }
        }
        while (true) {
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                return null;
            }
            // select(0) would wait forever: round the remainder up to a whole millisecond.
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(remaining + 999_999)));
            selector.selectedKeys().clear();
            if (!channel.isOpen()) {
                throw new ClosedChannelException();
            }
            from = channel.receive(receiveBuffer);
            if (from != null) {
                return from;
            }
        }
    }

    /**
     * Sends one DATA packet from a reused direct buffer: the same bytes as {@code TftpCodec.encode(new Data(..))}
     * without the per-block encode copy and the JDK's copy of a heap buffer into a temporary direct one.
     */
    private void sendData(int wireBlock, byte[] block, int length) throws IOException {
        dataBuffer.clear();
        dataBuffer.putShort((short) TftpPacket.DATA).putShort((short) wireBlock).put(block, 0, length).flip();
        channel.send(dataBuffer, client);
    }

    private void send(TftpPacket packet) throws IOException {
        send(packet, client);
    }

    private void send(TftpPacket packet, InetSocketAddress to) throws IOException {
        channel.send(ByteBuffer.wrap(TftpCodec.encode(packet)), to);
    }

    private void sendQuietly(TftpPacket packet) {
        try {
            if (channel.isOpen()) {
                send(packet);
            }
        } catch (IOException e) {
            log.debug("TFTP: could not send {} to {}: {}", packet, client, e.toString());
        }
    }
}
