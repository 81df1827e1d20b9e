package dev.pivot.boot;

import dev.pivot.events.BootEvent;
import dev.pivot.events.Step;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class BootSessionsTest {

    private static final MacAddress A = MacAddress.parse("52:54:00:00:00:0a");
    private static final MacAddress B = MacAddress.parse("52:54:00:00:00:0b");
    private static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");

    private static BootEvent at(int second, MacAddress mac, Step step) {
        return new BootEvent(T0.plusSeconds(second), mac, step, false, step.wire(), 0);
    }

    @Test
    void eventsOfOneBootFormOneOrderedSessionPerMachine() {
        BootSessions sessions = new BootSessions();
        sessions.emit(at(0, A, Step.DHCP));
        sessions.emit(at(1, B, Step.DHCP));
        sessions.emit(at(2, A, Step.SCRIPT));
        sessions.emit(at(9, A, Step.STAGE2));

        BootSession a = sessions.latest(A).orElseThrow();
        assertThat(a.events()).extracting(BootEvent::step).containsExactly(Step.DHCP, Step.SCRIPT, Step.STAGE2);
        assertThat(a.reachedStage2()).isTrue();
        assertThat(sessions.latest(B).orElseThrow().events()).hasSize(1);
        assertThat(sessions.all()).hasSize(2);
    }

    @Test
    void dhcpAfterAFinishedBootStartsANewSession() {
        BootSessions sessions = new BootSessions();
        sessions.emit(at(0, A, Step.DHCP));
        sessions.emit(new BootEvent(T0.plusSeconds(5), A, Step.ROOT_FETCHED, true, "sha256 mismatch", 0));
        sessions.emit(at(60, A, Step.DHCP));

        assertThat(sessions.all()).hasSize(2);
        BootSession first = sessions.all().getFirst();
        assertThat(first.failure()).map(BootEvent::detail).contains("sha256 mismatch");
        assertThat(sessions.latest(A).orElseThrow().events()).hasSize(1);
    }

    @Test
    void aLongSilenceStartsANewSessionAndListenersSeeEveryEvent() {
        BootSessions sessions = new BootSessions();
        List<BootEvent> seen = new ArrayList<>();
        sessions.onEvent((session, event) -> seen.add(event));
        sessions.emit(at(0, A, Step.DHCP));
        sessions.emit(at(3600, A, Step.SCRIPT));

        assertThat(sessions.all()).hasSize(2);
        assertThat(seen).hasSize(2);
    }
}
