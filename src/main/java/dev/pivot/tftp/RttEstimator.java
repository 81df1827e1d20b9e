package dev.pivot.tftp;

import java.time.Duration;

/**
 * Retransmission timeout from measured round trips, as TCP does it (RFC 6298): smoothed RTT and its variation,
 * timeout = srtt + 4·rttvar, kept within bounds, doubled on each retry of the same packet. Callers feed only
 * samples of packets sent once (Karn's rule), since an ACK after a retransmission is ambiguous.
 */
final class RttEstimator {

    private final long minNanos;
    private final long maxNanos;
    private long srtt = -1;
    private long rttvar;
    private long timeout;

    RttEstimator(Duration min, Duration max, Duration initial) {
        this.minNanos = min.toNanos();
        this.maxNanos = max.toNanos();
        this.timeout = clamp(initial.toNanos());
    }

    void sample(long rttNanos) {
        if (srtt < 0) {
            srtt = rttNanos;
            rttvar = rttNanos / 2;
        } else {
            rttvar = (3 * rttvar + Math.abs(srtt - rttNanos)) / 4;
            srtt = (7 * srtt + rttNanos) / 8;
        }
        timeout = clamp(srtt + 4 * rttvar);
    }

    /** The timeout for the {@code retry}-th retransmission (0 = first send). */
    long timeoutNanos(int retry) {
        long backedOff = timeout << Math.min(retry, 20);
        return Math.min(backedOff, maxNanos);
    }

    long smoothedNanos() {
        return srtt;
    }

    private long clamp(long nanos) {
        return Math.max(minNanos, Math.min(maxNanos, nanos));
    }
}
