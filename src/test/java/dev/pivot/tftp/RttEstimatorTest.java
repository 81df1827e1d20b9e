package dev.pivot.tftp;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class RttEstimatorTest {

    static final long MS = 1_000_000;

    RttEstimator estimator() {
        return new RttEstimator(Duration.ofMillis(50), Duration.ofSeconds(2), Duration.ofMillis(500));
    }

    @Test
    void initialTimeoutAppliesBeforeAnySample() {
        assertThat(estimator().timeoutNanos(0)).isEqualTo(500 * MS);
    }

    @Test
    void fastRoundTripsAreBoundedBelow() {
        RttEstimator e = estimator();
        for (int i = 0; i < 20; i++) {
            e.sample(100_000); // 0.1 ms on loopback
        }
        assertThat(e.timeoutNanos(0)).isEqualTo(50 * MS);
    }

    @Test
    void timeoutFollowsSrttPlusFourRttvar() {
        RttEstimator e = estimator();
        e.sample(100 * MS);  // srtt 100, rttvar 50 → 300
        assertThat(e.timeoutNanos(0)).isEqualTo(300 * MS);
        e.sample(100 * MS);  // rttvar 37.5, srtt 100 → 250
        assertThat(e.timeoutNanos(0)).isEqualTo(250 * MS);
    }

    @Test
    void retriesDoubleTheTimeoutUpToTheMaximum() {
        RttEstimator e = estimator();
        e.sample(100 * MS);
        assertThat(e.timeoutNanos(1)).isEqualTo(600 * MS);
        assertThat(e.timeoutNanos(2)).isEqualTo(1200 * MS);
        assertThat(e.timeoutNanos(3)).isEqualTo(2000 * MS);
        assertThat(e.timeoutNanos(60)).isEqualTo(2000 * MS);
    }

    @Test
    void aNeedlessRetransmissionsBackOffIsKeptUntilTheNextSample() {
        RttEstimator e = estimator();
        for (int i = 0; i < 20; i++) {
            e.sample(MS); // the floor: 50 ms
        }
        e.retransmittedNeedlessly(2);
        assertThat(e.timeoutNanos(0)).as("still backed off twice after the progress").isEqualTo(200 * MS);
        e.retransmittedNeedlessly(1);
        assertThat(e.timeoutNanos(0)).as("and once more: doublings add up").isEqualTo(400 * MS);
        assertThat(e.timeoutNanos(10)).as("never past the bound").isEqualTo(2000 * MS);
        e.sample(MS);
        assertThat(e.timeoutNanos(0)).as("a sample ends it").isEqualTo(50 * MS);
    }
}
