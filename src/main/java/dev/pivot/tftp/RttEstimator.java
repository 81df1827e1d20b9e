package dev.pivot.tftp;

import java.time.Duration;

/**
 * Retransmission timeout from measured round trips, as TCP does it (RFC 6298): smoothed RTT and its variation,
 * timeout = srtt + 4·rttvar, kept within bounds, doubled on each retry of the same packet. Callers feed only
 * samples of packets sent once (Karn's rule), since an ACK after a retransmission is ambiguous.
 *
 * <p>A retransmission shown to have been needless (see ReadTransfer: the client acknowledged both copies) keeps
 * its back-off after the progress that ended it, until the next sample, as Karn's algorithm does. Without that a
 * round trip that grew past the timeout (a virtual machine slowed down mid-transfer) is never measured again:
 * every block times out once, goes twice, and its ACK measures nothing. A retransmission that repaired a loss
 * keeps nothing: on a lossy LAN with microsecond round trips a kept back-off would make every later loss slow.
 */
final class RttEstimator {

    private final long minNanos;
    private final long maxNanos;
    private long srtt = -1;
    private long rttvar;
    private long timeout;
    /** Doublings kept from needless retransmissions; cleared by the next sample. */
    private int kept;

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
        kept = 0;
    }

    /** The last stall's {@code retries} retransmissions were needless: keep their back-off until a sample. */
    void retransmittedNeedlessly(int retries) {
        kept = Math.min(20, kept + Math.max(0, retries));
    }

    /** The timeout for the {@code retry}-th retransmission (0 = first send). */
    long timeoutNanos(int retry) {
        long backedOff = timeout << Math.min(retry + kept, 20);
        return Math.min(backedOff, maxNanos);
    }

    long smoothedNanos() {
        return srtt;
    }

    private long clamp(long nanos) {
        return Math.max(minNanos, Math.min(maxNanos, nanos));
    }
}
