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
import java.util.concurrent.TimeUnit;

/**
 * One read transfer, from the request to the last ACK, on its own ephemeral port (the server's TID), driven by a
 * {@link TftpLoop}: a state machine that reacts to ACKs and to its timer, never blocking the loop's thread. Only
 * {@link #prepare} runs elsewhere, on a virtual thread of its own: resolving a name may ask the store (a generated
 * per-machine file), and that must not stall every other transfer.
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
 * the window moves, on the loop's thread: files are read with positional reads of one block (the artifacts are
 * small and cached by the kernel once read), generated files are already in memory.
 * Block numbers are 16-bit on the wire and wrap from 65535 to 0 (what tftp-hpa, atftp and curl expect);
 * internally blocks are counted with a long.
 */
final class ReadTransfer implements TftpLoop.Handler, TftpLoop.Expiry {

    private static final Logger log = LoggerFactory.getLogger(ReadTransfer.class);
    /**
     * How far past the window a probe reaches: each probing round that goes unanswered reaches one block further
     * (the client may have taken the last probe and lost its ACK), up to this.
     */
    static final int PROBE_SPAN = 4;
    /** Leeway when judging whether a repeated ACK answers our retransmission (see Sender.stallBlock). */
    static final long STALL_SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private enum Phase { PREPARING, NEGOTIATING, SENDING, DONE }

    private final TftpConfig config;
    private final TftpFiles files;
    private final AddressBook addresses;
    private final EventSink events;
    private final InetSocketAddress client;
    private final TftpPacket.ReadRequest request;
    private final DatagramChannel channel;
    private final TftpLoop loop;
    private final TftpLoop.Timer timer;
    /** Run once when the transfer ends, whichever way: frees its place in the server's limits. */
    private final Runnable onEnd;
    private final String name;
    private final long started = System.nanoTime();
    private Phase phase = Phase.PREPARING;
    private TftpContent.Reader reader;
    private Sender sender;
    /** How long the loop may poll for an ACK before sleeping: from the smoothed round trip, 0 until measured. */
    private long spinNanos;

    private int retransmissions;
    /** Packets sent so far (any kind): tells {@link #receive} whether the packet it handled was answered. */
    private long sends;
    /** How often the fast retries went unanswered and the transfer waited for the client's own timer. */
    private int quietWaits;
    /** The last block went out but its ACK never came back (see Sender.expired). */
    private boolean finalAckMissing;
    /** True until the client acknowledged the OACK: an ERROR then is the client's choice, not a failure. */
    private boolean negotiating = true;
    /**
     * Whether the client showed it is there since the transfer began: an ACK, or its read request again. Only a
     * transfer whose client never did is given up early ({@link TftpLimits#handshakeGiveUp}).
     */
    private boolean heardFromClient;

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

    /** A step of the state machine; whatever it throws ends the transfer (see {@link #guarded}). */
    @FunctionalInterface
    private interface Move {
        void run() throws IOException, Abort;
    }

    /** Opens the transfer's socket (its TID); nothing is sent until {@link #prepare} and the loop run it. */
    ReadTransfer(TftpConfig config, TftpFiles files, AddressBook addresses, EventSink events,
                 InetSocketAddress client, TftpPacket.ReadRequest request, TftpLoop loop, Runnable onEnd)
            throws IOException {
        this.config = config;
        this.files = files;
        this.addresses = addresses;
        this.events = events;
        this.client = client;
        this.request = request;
        this.loop = loop;
        this.onEnd = onEnd;
        this.timer = new TftpLoop.Timer(this);
        this.name = TftpFiles.printable(request.filename());
        this.channel = DatagramChannel.open();
        try {
            channel.bind(new InetSocketAddress(config.bind(), 0));
            channel.configureBlocking(false);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Off the loop (a virtual thread): resolves the name, opens the content and negotiates the options, then hands
     * the transfer to its loop. A refusal is answered from here.
     */
    void prepare() {
        try {
            TftpFiles.Resolution resolution = files.resolve(request.filename(), client.getAddress());
            if (resolution instanceof TftpFiles.Refused refused) {
                if (refused.probe()) {
                    sendQuietly(new TftpPacket.Error(refused.errorCode(), refused.reason()));
                    log.debug("TFTP: '{}' asked by {}: {} (a probe its loader does without)", name, client,
                            refused.reason());
                    end();
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
            reader = netascii ? new NetasciiReader(content.open()) : content.open();
            sender = new Sender(options, reader);
        } catch (Abort abort) {
            aborted(abort);
            return;
        } catch (IOException | RuntimeException e) {
            sendQuietly(new TftpPacket.Error(TftpPacket.Error.NOT_DEFINED, "server error"));
            fail(e.toString());
            end();
            return;
        }
        if (!loop.submit(() -> guarded(this::begin))) {
            log.info("TFTP: transfer of '{}' to {} stopped: server closing", name, client);
            end();
        }
    }

    /** On the loop: takes the channel and sends the OACK or the first window. */
    private void begin() throws IOException, Abort {
        loop.register(channel, this);
        phase = Phase.NEGOTIATING;
        sender.negotiate();
    }

    @Override
    public void readable() {
        guarded(this::receive);
    }

    @Override
    public void expired(long now) {
        guarded(() -> {
            switch (phase) {
                case NEGOTIATING -> sender.oackExpired(now);
                case SENDING -> sender.expired(now);
                default -> { }
            }
        });
    }

    /**
     * The client sent its read request again while this transfer runs (any thread). It has not seen our first
     * answer (OACK, or block 1 without options), and its own timer just fired: answer at once rather than at our
     * next timeout, and count it as a sign of life. Later in the transfer a stray repeat is ignored.
     */
    void requestRepeated() {
        loop.submit(() -> guarded(() -> {
            if (phase == Phase.NEGOTIATING) {
                heardFromClient = true;
                sender.retry++;
                sender.sendOack();
            } else if (phase == Phase.SENDING && sender.base == 1 && sender.oack == null) {
                heardFromClient = true;
                sender.retry++;
                sender.sendFrom = 1;
                sender.pump();
            }
        }));
    }

    @Override
    public void shutdown() {
        if (phase != Phase.DONE) {
            log.info("TFTP: transfer of '{}' to {} stopped: server closing", name, client);
            end();
        }
    }

    /** Runs one step on the loop; an Abort, an I/O error or a bug ends this transfer, and only this one. */
    private void guarded(Move step) {
        if (phase == Phase.DONE) {
            return;
        }
        try {
            step.run();
        } catch (Abort abort) {
            aborted(abort);
        } catch (ClosedChannelException e) {
            log.info("TFTP: transfer of '{}' to {} stopped: server closing", name, client);
            end();
        } catch (IOException | RuntimeException e) {
            sendQuietly(new TftpPacket.Error(TftpPacket.Error.NOT_DEFINED, "server error"));
            fail(e.toString());
            end();
        }
    }

    private void aborted(Abort abort) {
        if (abort.tellClient) {
            sendQuietly(new TftpPacket.Error(abort.code, abort.getMessage()));
        }
        if (abort.clientsChoice) {
            // PXE firmware asks with tsize, reads the OACK and aborts on purpose before asking again.
            log.info("TFTP: {} ended the transfer of '{}': {}", client, name, abort.getMessage());
        } else {
            fail(abort.getMessage());
        }
        end();
    }

    private void finished(long bytes) {
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        TransferOptions options = sender.options;
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
        end();
    }

    /** Frees everything the transfer holds; runs once. */
    private void end() {
        if (phase == Phase.DONE) {
            return;
        }
        phase = Phase.DONE;
        if (loop.inLoop()) {
            loop.cancel(timer);
        }
        try {
            channel.close();
        } catch (IOException e) {
            log.debug("TFTP: closing the transfer socket: {}", e.toString());
        }
        if (reader != null) {
            try {
                reader.close();
            } catch (IOException e) {
                log.debug("TFTP: closing '{}': {}", name, e.toString());
            }
        }
        sender = null;
        onEnd.run();
    }

    private void fail(String reason) {
        log.warn("TFTP: transfer of '{}' to {} failed: {}", name, client, reason);
        addresses.macOf(client.getAddress()).ifPresent(
                mac -> events.emit(BootEvent.failed(mac, Step.TFTP, name + ": " + reason)
                        .withFile(name).withAddress(client.getAddress().getHostAddress())));
    }

    /**
     * Takes the datagrams waiting on the socket (a bounded number per wake-up, so one client cannot hold the loop).
     * Packets from other addresses get ERROR 5 (RFC 1350), malformed ones are logged and dropped, an ERROR from the
     * client ends the transfer.
     */
    private void receive() throws IOException, Abort {
        ByteBuffer buffer = loop.receiveBuffer();
        for (int i = 0; i < TftpLoop.DRAIN_PER_WAKE && phase != Phase.DONE; i++) {
            long sendsBefore = sends;
            buffer.clear();
            SocketAddress from = channel.receive(buffer);
            if (from == null) {
                return;
            }
            TftpPacket packet;
            try {
                packet = TftpCodec.decode(buffer.array(), buffer.position());
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
                    if (phase == Phase.NEGOTIATING) {
                        sender.oackAnswered(ack);
                    } else {
                        sender.acked(ack);
                    }
                }
                case TftpPacket.Error error -> throw new Abort(error.code(), "client sent ERROR " + error.code()
                        + " '" + TftpFiles.printable(error.message()) + "'", false, negotiating);
                default -> log.warn("TFTP: ignored {} from {} during a read",
                        packet.getClass().getSimpleName(), client);
            }
            if (sends != sendsBefore) {
                // That packet moved the transfer and we answered: the next ACK is a round trip away, so another
                // read now would find nothing (a wasted system call per ACK in lock-step). Whatever did arrive
                // meanwhile wakes the loop again at once.
                return;
            }
        }
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
        /** When each block first went out (sentAt is its latest send). */
        final long[] firstSentAt;
        final boolean[] sent;
        final boolean[] resent;
        long lastSendAt;

        long base = 1;           // lowest block not yet acknowledged
        long loaded = 0;         // highest block read from the content
        long sendFrom = 1;       // next block to put on the wire
        long last = -1;          // the final (short) block, once read
        long duplicateResentFor = -1;
        long highestSent = 0;    // the highest block put on the wire so far
        long lastAckAt;          // when any ACK (a duplicate too) last came in
        long bytesAcked;
        /**
         * The block whose ACK ended the last stall (after retransmissions, so it measured nothing), when and after
         * how many; -1 when there is none to judge. If that ACK is repeated soon after, within the span between the
         * block's first send and its last, the client had both copies: the first was not lost but slow.
         */
        long stallBlock = -1, stallEndedAt, stallSpan;
        int stallRetries;

        /** Retransmissions of the OACK, or of the current window, since the last progress. */
        int retry;
        /**
         * The client, never heard from, reached the handshake give-up: the copy just sent is the last, and the wait
         * after it outlasts the client's own timer (see {@link #lastCallForUnheard}).
         */
        boolean lastCall;
        /** When the OACK went out last; when the negotiation or the last progress began. */
        long oackSentAt, phaseStarted;
        TftpPacket.OptionAck oack;

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
            this.firstSentAt = new long[slots];
            this.sent = new boolean[slots];
            this.resent = new boolean[slots];
        }

        /**
         * The client's timeout option (RFC 2349) is acknowledged but used only as an upper bound of the fast
         * retries: curl always asks for 5 s, and waiting that long for every lost packet on a LAN turned 1 MiB at
         * 5 % loss from seconds into minutes. Retransmitting earlier is harmless: duplicate DATA only makes the
         * client ACK again, and duplicate ACKs are ignored here. See {@link RetrySchedule} for the quiet phase.
         */
        long timeoutNanos(int retry) {
            return lastCall && !heardFromClient ? schedule.quietNanos() : schedule.timeoutNanos(retry);
        }

        /**
         * The expiry step for a client never heard from. A client that has block 1 (or the OACK) and lost every ACK
         * it sent answers only our copies or its own timer (5 s for tftp-hpa and atftp), and sends that answer to
         * this transfer's port, which dies with it. So the copy whose fast wait would end past the handshake give-up
         * is made the last one, the wait after it outlasts the client's timer (see {@link #timeoutNanos}), and the
         * expiry after that wait gives the transfer up (silently: see {@link #silentGiveUp}).
         */
        void lastCallForUnheard(String what, long waitedNanos) throws Abort {
            if (heardFromClient) {
                return;
            }
            if (lastCall) {
                throw silentGiveUp(what, waitedNanos);
            }
            lastCall = waitedNanos + schedule.timeoutNanos(retry + 1) >= config.limits().handshakeGiveUp().toNanos();
        }

        void sampleRtt(long nanos) {
            rtt.sample(nanos);
            spinNanos = AckSpin.budgetNanos(rtt.smoothedNanos());
        }

        /** Sends the OACK, when there is one (then the client must acknowledge it with ACK 0), else the data. */
        void negotiate() throws IOException, Abort {
            if (options.acknowledged().isEmpty()) {
                startSending();
                return;
            }
            oack = new TftpPacket.OptionAck(options.acknowledged());
            phaseStarted = System.nanoTime();
            sendOack();
        }

        void sendOack() throws IOException {
            oackSentAt = System.nanoTime();
            send(oack);
            if (retry > 0) {
                retransmissions++;
            }
            loop.schedule(timer, oackSentAt + timeoutNanos(retry));
        }

        void oackAnswered(TftpPacket.Ack ack) throws IOException, Abort {
            if (ack.block() != 0) {
                return;
            }
            heardFromClient = true;
            schedule.answered();
            if (retry == 0) {
                sampleRtt(System.nanoTime() - oackSentAt);
            }
            startSending();
        }

        void oackExpired(long now) throws IOException, Abort {
            long waited = now - phaseStarted;
            lastCallForUnheard("the OACK", waited);
            if (retry >= config.maxRetries() && waited >= config.giveUpAfter().toNanos()) {
                throw new Abort(TftpPacket.Error.NOT_DEFINED, "no ACK for the OACK after "
                        + retry + " retransmissions", true, false);
            }
            schedule.timedOut();
            retry++;
            sendOack();
        }

        /**
         * The client never answered: most likely a request flood, or a client that went away. No ERROR goes back:
         * a live client whose every answer was lost repeats its request, and that starts a fresh transfer then.
         */
        Abort silentGiveUp(String what, long waitedNanos) {
            return new Abort(TftpPacket.Error.NOT_DEFINED, "nothing heard from the client after " + what + " ("
                    + (retry + 1) + " sends in " + TimeUnit.NANOSECONDS.toMillis(waitedNanos) + " ms)", false, false);
        }

        void startSending() throws IOException, Abort {
            negotiating = false;
            phase = Phase.SENDING;
            retry = 0;
            phaseStarted = System.nanoTime();
            pump();
        }

        /**
         * Reads and sends what the window (and, on a probing retry, the blocks after it) allows and is not on the
         * wire yet; a send restarts the timer. Ignored packets (duplicate ACKs) send nothing and must not postpone a
         * resend.
         */
        void pump() throws IOException {
            long through = retry > 0 && schedule.probes(retry)
                    ? Math.min(Math.max(highestSent, windowEnd()) + 1, windowEnd() + PROBE_SPAN) : windowEnd();
            fillThrough(through);
            if (sendWindow(through)) {
                loop.schedule(timer, lastSendAt + timeoutNanos(retry));
                loop.spinFor(spinNanos);
            }
        }

        /** No ACK before the timer: retransmit, go quiet, or give up. */
        void expired(long now) throws IOException, Abort {
            long stalledNanos = now - phaseStarted;
            // Nothing heard from the client since the transfer began: a last copy, then a silent give-up
            // (TftpLimits.handshakeGiveUp).
            lastCallForUnheard("block 1", stalledNanos);
            if (retry >= config.maxRetries() && stalledNanos >= config.giveUpAfter().toNanos()) {
                if (base > 1 && highestSent == last && lastAckAt <= phaseStarted) {
                    // Every block went out, the last in the window or as a probe, and the client, heard from
                    // before, said nothing through the whole stall, quiet waits included. A client lacking a
                    // block re-sends its ACK on its own timer; this one most likely has the file and has moved
                    // on, its last ACKs lost (RFC 1350 §6 leaves this open). Not a failed boot step; the log and
                    // the event say so.
                    finalAckMissing = true;
                    long unacknowledged = 0;
                    for (long b = base; b <= last; b++) {
                        unacknowledged += lengths[slot(b)];
                    }
                    finished(bytesAcked + unacknowledged);
                    return;
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
            pump();
        }

        void acked(TftpPacket.Ack ack) throws IOException {
            long now = System.nanoTime();
            heardFromClient = true;
            lastAckAt = now;
            long acked = absolute(ack.block());
            if (acked >= base && acked <= loaded) {
                if (acked > windowEnd()) {
                    // A probe was taken and the repeated window before it was not answered.
                    schedule.probeAnsweredAlone();
                }
                int slot = slot(acked);
                stallBlock = -1;
                if (!resent[slot] && retry == 0) {
                    // Karn: only an ACK to a block sent once, before any timeout, measures the round trip. After
                    // a timeout it may answer a probe or come from the client's own timer (busybox re-ACKs
                    // after 100 ms): one such sample raised srtt from 20 µs to 12 ms at 20 % loss.
                    sampleRtt(now - sentAt[slot]);
                } else if (retry > 0 && resent[slot] && !schedule.quiet(retry)) {
                    // Judged only within the fast retries: after a quiet wait of seconds, a repeated ACK is more
                    // likely the client's own timer (atftp re-ACKs after 5 s) than an answer to our copy.
                    stallBlock = acked;
                    stallEndedAt = now;
                    stallSpan = sentAt[slot] - firstSentAt[slot];
                    stallRetries = retry;
                }
                for (long b = base; b <= acked; b++) {
                    bytesAcked += lengths[slot(b)];
                }
                base = acked + 1;
                retry = 0;
                schedule.answered();
                phaseStarted = now;
                if (acked == last) {
                    finished(bytesAcked);
                    return;
                }
                // Blocks after the ACKed one that were already sent are resent: the client says it lacks them.
                sendFrom = base;
            } else if (acked == stallBlock && now - stallEndedAt <= stallSpan + STALL_SLACK_NANOS) {
                // Both copies acknowledged: the timeout fired before a slow answer, not after a loss.
                rtt.retransmittedNeedlessly(stallRetries);
                stallBlock = -1;
                if (window > 1 && duplicateResentFor != acked) {
                    duplicateResentFor = acked;
                    sendFrom = base;
                }
            } else if (acked == base - 1 && window > 1 && duplicateResentFor != acked) {
                duplicateResentFor = acked;
                sendFrom = base;
            }
            // Any other ACK (a duplicate with windowsize 1, a stale one) is ignored: only the timeout resends.
            pump();
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
            } else {
                firstSentAt[slot] = System.nanoTime();
            }
            sendData((int) (block & 0xFFFF), blocks[slot], lengths[slot]);
            highestSent = Math.max(highestSent, block);
            lastSendAt = System.nanoTime();
            sentAt[slot] = lastSendAt;
            sent[slot] = true;
        }
    }

    /**
     * Sends one DATA packet from the loop's direct buffer: the same bytes as
     * {@code TftpCodec.encode(new Data(..))} without the per-block encode copy and the JDK's copy of a heap buffer
     * into a temporary direct one.
     */
    private void sendData(int wireBlock, byte[] block, int length) throws IOException {
        sends++;
        ByteBuffer data = loop.sendBuffer();
        data.clear();
        data.putShort((short) TftpPacket.DATA).putShort((short) wireBlock).put(block, 0, length).flip();
        channel.send(data, client);
    }

    private void send(TftpPacket packet) throws IOException {
        send(packet, client);
    }

    private void send(TftpPacket packet, InetSocketAddress to) throws IOException {
        sends++;
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
