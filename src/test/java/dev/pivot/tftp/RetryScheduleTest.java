package dev.pivot.tftp;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.OptionalInt;

import static org.assertj.core.api.Assertions.assertThat;

class RetryScheduleTest {

    static final long MS = 1_000_000;

    static RttEstimator loopbackRtt() {
        RttEstimator rtt = new RttEstimator(Duration.ofMillis(10), Duration.ofSeconds(2), Duration.ofMillis(500));
        for (int i = 0; i < 20; i++) {
            rtt.sample(100_000);   // 0.1 ms
        }
        return rtt;
    }

    @Test
    void fastRetriesDoubleFromTheMeasuredTimeoutThenTheScheduleGoesQuiet() {
        RetrySchedule schedule = new RetrySchedule(loopbackRtt(), 6000 * MS, OptionalInt.empty());
        assertThat(schedule.fastRetries()).isEqualTo(RetrySchedule.MIN_FAST_RETRIES);
        assertThat(schedule.timeoutNanos(0)).isEqualTo(10 * MS);
        assertThat(schedule.timeoutNanos(1)).isEqualTo(20 * MS);
        assertThat(schedule.timeoutNanos(3)).isEqualTo(80 * MS);
        assertThat(schedule.quiet(3)).isFalse();
        assertThat(schedule.quiet(4)).isTrue();
        assertThat(schedule.timeoutNanos(4)).isEqualTo(6000 * MS);
        assertThat(schedule.timeoutNanos(9)).isEqualTo(6000 * MS);
    }

    @Test
    void aLossyLinkEarnsMoreFastRetriesBeforeTheQuietPhase() {
        RetrySchedule schedule = new RetrySchedule(loopbackRtt(), 6000 * MS, OptionalInt.empty());
        // 20 % loss each way: a round fails with 1 - 0.8² = 36 %.
        for (int i = 0; i < 1000; i++) {
            if (i % 100 < 36) {
                schedule.timedOut();
            } else {
                schedule.answered();
            }
        }
        // 0.36^6 ≈ 0.0022, 0.36^7 ≈ 0.0008: seven rounds in a row before concluding the client stopped answering.
        assertThat(schedule.fastRetries()).isEqualTo(7);
        assertThat(schedule.quiet(7)).isFalse();
        assertThat(schedule.quiet(8)).isTrue();
    }

    @Test
    void fastRetriesAreBoundedEvenWhenNothingEverArrives() {
        RetrySchedule schedule = new RetrySchedule(loopbackRtt(), 6000 * MS, OptionalInt.empty());
        for (int i = 0; i < 1000; i++) {
            schedule.timedOut();
        }
        assertThat(schedule.fastRetries()).isEqualTo(RetrySchedule.MAX_FAST_RETRIES);
    }

    @Test
    void theClientsTimeoutCapsFastRetriesAndTheQuietWaitOutlastsIt() {
        RttEstimator slow = new RttEstimator(Duration.ofMillis(10), Duration.ofSeconds(2), Duration.ofSeconds(2));
        RetrySchedule schedule = new RetrySchedule(slow, 3000 * MS, OptionalInt.of(1));
        assertThat(schedule.timeoutNanos(0)).isEqualTo(1000 * MS);
        RetrySchedule patient = new RetrySchedule(slow, 3000 * MS, OptionalInt.of(5));
        assertThat(patient.timeoutNanos(RetrySchedule.MAX_FAST_RETRIES + 1)).isEqualTo(6000 * MS);
    }

    @Test
    void theSecondRetransmissionProbesUntilTheClientIsSeenIgnoringRepeatsThenTheFirstDoes() {
        RetrySchedule schedule = new RetrySchedule(loopbackRtt(), 6000 * MS, OptionalInt.empty());
        assertThat(schedule.probes(1)).isFalse();
        assertThat(schedule.probes(RetrySchedule.PROBE_FROM_RETRY)).isTrue();
        schedule.probeAnsweredAlone();
        assertThat(schedule.probes(1)).isTrue();
    }
}
