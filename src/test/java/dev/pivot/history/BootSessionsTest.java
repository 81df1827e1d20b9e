package dev.pivot.history;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
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
    void serversSharingAStoreNumberTheirSessionsApart() {
        BootSessions first = new BootSessions(100, List.of(), BootSessions.Limits.DEFAULT, 64, 0);
        BootSessions second = new BootSessions(100, List.of(), BootSessions.Limits.DEFAULT, 64, 5);
        List<Long> ids = new ArrayList<>();
        for (BootSessions s : List.of(first, second)) {
            ids.add(s.cut(at(0, A, Step.DHCP)).orElseThrow().session().id());
            ids.add(s.cut(at(0, B, Step.DHCP)).orElseThrow().session().id());
        }
        assertThat(ids).containsExactly(128L, 192L, 133L, 197L);
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

    @Test
    void memoryHoldsTheNewestMachinesAFewSessionsEachAndCapsEvents() {
        BootSessions sessions = new BootSessions(0, List.of(), new BootSessions.Limits(2, 2, 3));
        MacAddress c = MacAddress.parse("52:54:00:00:00:0c");
        for (int boot = 0; boot < 3; boot++) { // three finished boots of A: only two are kept
            sessions.emit(at(boot * 60, A, Step.DHCP));
            sessions.emit(at(boot * 60 + 5, A, Step.STAGE2));
        }
        assertThat(sessions.all()).hasSize(2);
        sessions.emit(at(200, A, Step.DHCP));
        sessions.emit(at(201, A, Step.TFTP));
        sessions.emit(at(202, A, Step.SCRIPT));
        assertThat(sessions.cut(at(203, A, Step.KERNEL))).as("a fourth event of a 3-event session").isEmpty();
        assertThat(sessions.dropped()).isEqualTo(1);
        sessions.emit(at(210, B, Step.DHCP));
        sessions.emit(at(211, c, Step.DHCP)); // a third machine: the least recently active (A) goes
        assertThat(sessions.latest(A)).isEmpty();
        assertThat(sessions.latest(c)).isPresent();
    }

    @Test
    void sessionIdsContinueAfterTheRecordedOnesAndOpenSessionsGoOn() {
        BootSession open = new BootSession(41, A, List.of(at(0, A, Step.DHCP)));
        BootSessions sessions = new BootSessions(41, List.of(open), BootSessions.Limits.DEFAULT);
        assertThat(sessions.cut(at(1, A, Step.TFTP))).get().satisfies(c -> {
            assertThat(c.session().id()).isEqualTo(41);
            assertThat(c.seq()).isEqualTo(2);
        });
        assertThat(sessions.cut(at(2, B, Step.DHCP))).get().extracting(c -> c.session().id()).isEqualTo(42L);
    }
}
