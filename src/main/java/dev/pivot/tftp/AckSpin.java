package dev.pivot.tftp;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * When an event loop may busy-wait for a transfer's ACK instead of sleeping, and for how long.
 *
 * <p>Lock-step TFTP sends one block per round trip, and on a LAN the round trip is tens of microseconds: about
 * what it costs to wake a sleeping thread on an idle CPU. Spinning on the non-blocking socket for up to two
 * smoothed round trips (polling the loop's selector) takes that wake-up off every block. It costs a CPU while it
 * lasts, so it is bounded three ways: only when the measured round trip is short (a slow client gains nothing from
 * it), never longer than {@link #MAX_SPIN_NANOS} after the last send, and by at most half the CPUs at once, so the
 * loops never starve the rest of the server; the others sleep as before.
 */
final class AckSpin {

    /** Round trips longer than this are not worth a spin: the wake-up is a small part of them. */
    static final long MAX_RTT_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    static final long MAX_SPIN_NANOS = TimeUnit.MICROSECONDS.toNanos(250);

    private static final int MAX_SPINNERS = Runtime.getRuntime().availableProcessors() / 2;
    private static final AtomicInteger spinners = new AtomicInteger();

    private AckSpin() { }

    /** How long to spin given the smoothed round trip (negative: none measured yet); 0 means do not spin. */
    static long budgetNanos(long smoothedRttNanos) {
        if (smoothedRttNanos < 0 || smoothedRttNanos > MAX_RTT_NANOS) {
            return 0;
        }
        return Math.min(MAX_SPIN_NANOS, 2 * smoothedRttNanos);
    }

    /** Takes one of the spinning places; false when half the CPUs already spin. */
    static boolean tryStart() {
        while (true) {
            int now = spinners.get();
            if (now >= MAX_SPINNERS) {
                return false;
            }
            if (spinners.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    static void end() {
        spinners.decrementAndGet();
    }
}
