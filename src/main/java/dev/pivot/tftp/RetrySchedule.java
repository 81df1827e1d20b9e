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
 *
 * <p>The client's own timer, learned: busybox 1.35 never answers a repeated block and re-sends its ACK 100 ms after
 * the last packet it received, so every fast retry restarts its timer and a lost ACK cost the whole fast phase
 * (10 + 20 + 40 + 80 ms, then its 100 ms, per lost ACK). When an ACK arrives long after our last send, without a send to answer,
 * it came from such a timer; once one has been seen (and it is short, {@link #MAX_LEARNED_TIMER_NANOS}), every wait
 * after a retransmission outlasts it, so that timer fires after the first retry instead of after the last. The
 * wait after the first send stays the round-trip timeout: that is what repairs a lost DATA block.
 */
final class RetrySchedule {

    /** Chance that a client which answers every packet still fails the fast retries in a row. */
    static final double STALL_EVIDENCE = 0.002;
    static final int MIN_FAST_RETRIES = 3, MAX_FAST_RETRIES = 8;
    /**
     * An ACK this long after our last send, and many round trips after it, was sent by the client's timer. Below
     * it, a late ACK is more likely a client that was not scheduled for a while (seen: 24–33 ms on a busy host).
     */
    static final long TIMER_EVIDENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** Longer client timers (atftp's 5 s) are left to the quiet phase: waiting them out after every retry costs more. */
    static final long MAX_LEARNED_TIMER_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final RttEstimator rtt;
    private final long quietNanos;
    private final long clientTimeoutNanos;
    // A prior of one failure in ten rounds, so that the first losses do not swing the estimate.
    private long rounds = 10;
    private long failures = 1;
    /** The shortest client timer seen in this transfer, -1 until one is seen. */
    private long clientTimerNanos = -1;

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

    /**
     * An ACK that moved the transfer on arrived {@code silenceNanos} after our last send, while we were retrying.
     * Far longer than a round trip, it was not an answer to that send but the client's own timer firing.
     */
    void progressAfterSilence(long silenceNanos) {
        if (silenceNanos < TIMER_EVIDENCE_NANOS || silenceNanos < 10 * Math.max(0, rtt.smoothedNanos())
                || silenceNanos > MAX_LEARNED_TIMER_NANOS) {
            return;
        }
        clientTimerNanos = clientTimerNanos < 0 ? silenceNanos : Math.min(clientTimerNanos, silenceNanos);
    }

    /** The client timer learned so far, -1 when none. */
    long clientTimerNanos() {
        return clientTimerNanos;
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
        if (retry > 0 && clientTimerNanos > 0) {
            // The client backs its timer off by half on each of its own timeouts (busybox), so the k-th wait
            // outlasts timer · 1.5^(k-1); a quarter more, at least 5 ms, so its jitter never makes us speak first.
            long timer = clientTimerNanos;
            for (int i = 1; i < retry; i++) {
                timer += timer / 2;
            }
            adaptive = Math.max(adaptive, timer + Math.max(timer / 4, 5_000_000));
        }
        return clientTimeoutNanos < 0 ? adaptive : Math.min(adaptive, clientTimeoutNanos);
    }
}
