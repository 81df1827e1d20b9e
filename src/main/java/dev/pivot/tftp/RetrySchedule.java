package dev.pivot.tftp;

import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * When to retransmit during one transfer, and how much: fast, from the measured round trip, while a retransmission
 * is likely to be answered, probing past the window from the second retry on; then quietly, long enough for the
 * client's own retransmission timer to fire.
 *
 * <p>The probe: a retransmission from the {@link #PROBE_FROM_RETRY}-th on also carries the blocks after the window
 * (see ReadTransfer). When it is our DATA that was lost, the client takes the repeated block and then the probe;
 * when it is the client's ACK that was lost, the client is already waiting for exactly that block. busybox 1.35
 * ignores every repeated block (it re-sends its ACK 100 ms after the last packet it got, so every repeat restarts
 * that timer) and atftp 0.8.0 answers only the first repeat (then waits for its 5 s timer, also restarted by every
 * packet). Without the probe a lost ACK cost them that timer, or the whole fast phase; with it, a round-trip
 * timeout or two. A client seen taking a probe without answering the repeat before it ignores repeats, and from
 * then on every retransmission probes.
 *
 * <p>Why the quiet phase: when even the probes go unanswered (the client may be past what they reach, or wait for
 * its own timer), a server that keeps retransmitting keeps such a client waiting forever; only a silence longer
 * than the client's timer makes it send its ACK again. A client that answers every duplicate (curl, tftp-hpa, PXE
 * ROMs) rarely reaches the quiet phase: the number of fast retries grows with the loss rate seen in this transfer,
 * so that a working client fails that many rounds in a row with a chance of about {@value #STALL_EVIDENCE} only.
 */
final class RetrySchedule {

    /** Chance that a client which answers every packet still fails the fast retries in a row. */
    static final double STALL_EVIDENCE = 0.002;
    static final int MIN_FAST_RETRIES = 3, MAX_FAST_RETRIES = 8;
    /**
     * The first retransmission that probes, for a client not yet seen ignoring repeats. Not the first one: a
     * client that answers repeats (curl, tftp-hpa, PXE ROMs) is repaired by it alone, and blocks past its window
     * reach such a client only when the loss repeats.
     */
    static final int PROBE_FROM_RETRY = 2;

    private final RttEstimator rtt;
    private final long quietNanos;
    private final long clientTimeoutNanos;
    // A prior of one failure in ten rounds, so that the first losses do not swing the estimate.
    private long rounds = 10;
    private long failures = 1;
    /** The client took a probe without answering the repeated blocks before it. */
    private boolean clientIgnoresRepeats;

    /**
     * @param quietNanos     silence in the quiet phase (longer than common client timers: atftp and curl use 5 s)
     * @param clientTimeout  the client's timeout option (RFC 2349), an upper bound of the fast phase; the quiet
     *                       phase waits at least one second longer than it, so the client's timer fires first
     */
    RetrySchedule(RttEstimator rtt, long quietNanos, OptionalInt clientTimeout) {
        this.rtt = rtt;
        this.clientTimeoutNanos = clientTimeout.isPresent()
                ? TimeUnit.SECONDS.toNanos(clientTimeout.getAsInt()) : -1;
        this.quietNanos = clientTimeoutNanos < 0 ? quietNanos
                : Math.max(quietNanos, clientTimeoutNanos + TimeUnit.SECONDS.toNanos(1));
    }

    /** A round (a window or block sent, then waited for) ended with progress. */
    void answered() {
        rounds++;
    }

    /** A round ended with a timeout. */
    void timedOut() {
        rounds++;
        failures++;
    }

    /** The client acknowledged a probe while the repeated window before it went unanswered. */
    void probeAnsweredAlone() {
        clientIgnoresRepeats = true;
    }

    /** Whether the {@code retry}-th retransmission also sends blocks after the window. */
    boolean probes(int retry) {
        return retry >= (clientIgnoresRepeats ? 1 : PROBE_FROM_RETRY);
    }

    /** Fast retries allowed before the quiet phase, from the failure rate seen so far. */
    int fastRetries() {
        double failureRate = Math.min(0.9, (double) failures / rounds);
        int needed = (int) Math.ceil(Math.log(STALL_EVIDENCE) / Math.log(failureRate));
        return Math.clamp(needed, MIN_FAST_RETRIES, MAX_FAST_RETRIES);
    }

    /** The silence of the quiet phase: longer than the client's own retransmission timer. */
    long quietNanos() {
        return quietNanos;
    }

    boolean quiet(int retry) {
        return retry > fastRetries();
    }

    /** How long to wait for an ACK after the {@code retry}-th retransmission (0 = first send). */
    long timeoutNanos(int retry) {
        if (quiet(retry)) {
            return quietNanos;
        }
        long adaptive = rtt.timeoutNanos(retry);
        return clientTimeoutNanos < 0 ? adaptive : Math.min(adaptive, clientTimeoutNanos);
    }
}
