package dev.pivot.tftp;

import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * When to retransmit during one transfer: fast, from the measured round trip, while a retransmission is likely to
 * be answered; then quietly, long enough for the client's own retransmission timer to fire.
 *
 * <p>Why the quiet phase: atftp 0.8.0 answers a repeated DATA block with one extra ACK only, and restarts its 5 s
 * re-ACK timer on every packet it receives. When that extra ACK is lost too, a server that keeps retransmitting
 * (every ≤ 2 s) keeps the client waiting forever; only a silence longer than the client's timer makes it send its
 * ACK again. A client that answers every duplicate (curl, tftp-hpa, busybox, PXE ROMs) rarely reaches the quiet
 * phase: the number of fast retries grows with the loss rate seen in this transfer, so that a working client
 * fails that many rounds in a row with a chance of about {@value #STALL_EVIDENCE} only.
 */
final class RetrySchedule {

    /** Chance that a client which answers every packet still fails the fast retries in a row. */
    static final double STALL_EVIDENCE = 0.002;
    static final int MIN_FAST_RETRIES = 3, MAX_FAST_RETRIES = 8;

    private final RttEstimator rtt;
    private final long quietNanos;
    private final long clientTimeoutNanos;
    // A prior of one failure in ten rounds, so that the first losses do not swing the estimate.
    private long rounds = 10;
    private long failures = 1;

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

    /** Fast retries allowed before the quiet phase, from the failure rate seen so far. */
    int fastRetries() {
        double failureRate = Math.min(0.9, (double) failures / rounds);
        int needed = (int) Math.ceil(Math.log(STALL_EVIDENCE) / Math.log(failureRate));
        return Math.clamp(needed, MIN_FAST_RETRIES, MAX_FAST_RETRIES);
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
