package dev.pivot.tftp;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class AckSpinTest {

    private static long micros(long n) {
        return TimeUnit.MICROSECONDS.toNanos(n);
    }

    @Test
    void noSpinBeforeARoundTripIsMeasured() {
        assertThat(AckSpin.budgetNanos(-1)).isZero();
    }

    @Test
    void spinsTwoRoundTripsOnAFastLink() {
        assertThat(AckSpin.budgetNanos(micros(40))).isEqualTo(micros(80));
    }

    @Test
    void spinIsCappedForMiddlingRoundTrips() {
        assertThat(AckSpin.budgetNanos(micros(400))).isEqualTo(AckSpin.MAX_SPIN_NANOS);
    }

    @Test
    void slowClientsAreNotWorthASpin() {
        assertThat(AckSpin.budgetNanos(micros(501))).isZero();
        assertThat(AckSpin.budgetNanos(TimeUnit.MILLISECONDS.toNanos(20))).isZero();
    }

    @Test
    void atMostHalfTheProcessorsSpinAtOnce() {
        int half = Runtime.getRuntime().availableProcessors() / 2;
        int taken = 0;
        try {
            while (AckSpin.tryStart()) {
                taken++;
                assertThat(taken).isLessThanOrEqualTo(half);
            }
            assertThat(taken).isEqualTo(half);
        } finally {
            for (int i = 0; i < taken; i++) {
                AckSpin.end();
            }
        }
        if (half > 0) {
            assertThat(AckSpin.tryStart()).isTrue();
            AckSpin.end();
        }
    }
}
