package dev.pivot.ndp;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class AdvertisingTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final NdpMessage.RouterAdvertisement REAL_ROUTER =
            new NdpMessage.RouterAdvertisement(1800, false, false, true, Optional.empty());

    @Test
    void answersASolicitationAfterTheRandomDelayWhenNoRouterWasHeard() {
        Advertising a = new Advertising(() -> 300);
        assertThat(a.solicited(T0)).contains(T0.plusMillis(300));
        assertThat(a.due(T0.plusMillis(300))).isTrue();
    }

    @Test
    void answersAtOnceWhenPivotsOwnSolicitationWentUnansweredForTheDelay() {
        Advertising a = new Advertising(() -> 300);
        a.probed(T0);
        Instant early = T0.plusMillis(100);
        assertThat(a.solicited(early)).as("a router may still answer the probe").contains(early.plusMillis(300));
        assertThat(a.due(early.plusMillis(300))).isTrue();
        Instant later = T0.plusSeconds(30);
        assertThat(a.knownRouterFree(later)).isTrue();
        assertThat(a.solicited(later)).contains(later);
    }

    @Test
    void aRouterThatAnswersTheProbeKeepsPivotSilent() {
        Advertising a = new Advertising(() -> 0);
        a.probed(T0);
        a.heard(REAL_ROUTER, T0.plusMillis(200));
        assertThat(a.knownRouterFree(T0.plusSeconds(30))).isFalse();
        assertThat(a.solicited(T0.plusSeconds(30))).isEmpty();
    }

    @Test
    void staysSilentWhileARealRouterAdvertisesAndSpeaksAgainWhenItIsGone() {
        Advertising a = new Advertising(() -> 0);
        a.heard(REAL_ROUTER, T0);
        assertThat(a.solicited(T0.plusSeconds(10))).isEmpty();
        Instant later = T0.plus(Advertising.QUIET_AFTER_ROUTER).plusSeconds(1);
        assertThat(a.solicited(later)).contains(later);
    }

    @Test
    void aRouterHeardDuringTheDelayCancelsThePendingAnswer() {
        Advertising a = new Advertising(() -> 400);
        assertThat(a.solicited(T0)).isPresent();
        a.heard(REAL_ROUTER, T0.plusMillis(100));
        assertThat(a.due(T0.plusMillis(400))).isFalse();
    }

    @Test
    void anotherAdvertisementThatConfiguresNothingDoesNotSilencePivot() {
        Advertising a = new Advertising(() -> 0);
        a.heard(NdpMessage.RouterAdvertisement.nothingToConfigure(Optional.empty()), T0);
        assertThat(a.solicited(T0)).contains(T0);
    }

    @Test
    void aFloodOfSolicitationsGetsOneAnswerPerInterval() {
        Advertising a = new Advertising(() -> 0);
        assertThat(a.solicited(T0)).contains(T0);
        assertThat(a.solicited(T0)).as("one pending answer covers every host that asks meanwhile").isEmpty();
        assertThat(a.due(T0)).isTrue();
        Instant soon = T0.plusMillis(10);
        assertThat(a.solicited(soon)).contains(T0.plus(Advertising.MIN_INTERVAL));
        int answers = 0;
        for (int ms = 0; ms < 10_000; ms += 5) {
            Instant now = T0.plusMillis(20 + ms);
            a.solicited(now);
            if (!now.isBefore(T0.plus(Advertising.MIN_INTERVAL.multipliedBy(answers + 1))) && a.due(now)) {
                answers++;
            }
        }
        assertThat(answers).isLessThanOrEqualTo((int) (Duration.ofSeconds(10).toMillis()
                / Advertising.MIN_INTERVAL.toMillis()) + 1);
    }
}
