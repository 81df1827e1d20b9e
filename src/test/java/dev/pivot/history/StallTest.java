package dev.pivot.history;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StallTest {

    private static final MacAddress MAC = MacAddress.parse("52:54:00:00:00:01");
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static BootEvent at(Instant t, Step step) {
        return new BootEvent(t, MAC, step, false, step.wire(), 0);
    }

    @Test
    void aBootSilentPastItsStepsDeadlineIsStalledOnceAndItsNextDhcpStartsANewSession() {
        BootSessions sessions = new BootSessions();
        StallDeadlines deadlines = StallDeadlines.DEFAULT.with(List.of("initrd=40"));
        sessions.cut(at(T0, Step.DHCP));
        sessions.cut(at(T0.plusSeconds(5), Step.INITRD));
        assertThat(sessions.cutStalls(T0.plusSeconds(45), deadlines)).as("exactly at the deadline").isEmpty();
        List<BootSessions.Cut> stalled = sessions.cutStalls(T0.plusSeconds(46), deadlines);
        assertThat(stalled).hasSize(1);
        assertThat(stalled.getFirst().event().step()).isEqualTo(Step.STALLED);
        assertThat(stalled.getFirst().event().detail()).isEqualTo("no next event within 40 s after initrd");
        assertThat(stalled.getFirst().session().stalled()).isTrue();
        assertThat(sessions.cutStalls(T0.plusSeconds(500), deadlines)).as("marked once").isEmpty();

        long first = stalled.getFirst().session().id();
        BootSessions.Cut next = sessions.cut(at(T0.plusSeconds(600), Step.DHCP)).orElseThrow();
        assertThat(next.session().id()).isNotEqualTo(first);
        assertThat(next.seq()).isEqualTo(1);
    }

    @Test
    void aBootWhoseLastEventEndsItIsHandedOverThereAndRests() {
        BootSessions sessions = new BootSessions();
        sessions.cut(at(T0, Step.DHCP));
        sessions.cut(at(T0.plusSeconds(5), Step.INITRD));
        List<BootSessions.Cut> handed = sessions.cutStalls(T0.plusSeconds(6), StallDeadlines.DEFAULT,
                e -> e.step() == Step.INITRD);
        assertThat(handed).hasSize(1);
        assertThat(handed.getFirst().event().step()).isEqualTo(Step.HANDOVER);
        assertThat(handed.getFirst().event().at()).as("at the last file's time").isEqualTo(T0.plusSeconds(5));
        assertThat(handed.getFirst().session().handedOver()).isTrue();
        assertThat(handed.getFirst().session().finished()).isTrue();
        assertThat(sessions.cutStalls(T0.plusSeconds(3600), StallDeadlines.DEFAULT, e -> e.step() == Step.INITRD))
                .as("handed over once, never stalled").isEmpty();

        BootSessions unended = new BootSessions();
        unended.cut(at(T0, Step.DHCP));
        unended.cut(at(T0.plusSeconds(5), Step.INITRD));
        assertThat(unended.cutStalls(T0.plusSeconds(3600), StallDeadlines.DEFAULT)).singleElement()
                .satisfies(c -> assertThat(c.event().step()).isEqualTo(Step.STALLED));
    }

    /** What DhcpResponder emits for a client with no firmware asking to boot (an OS's dhcpcd, udhcpc). */
    private static BootEvent plainDhcp(Instant t, BootEvent.DhcpAnswer kind) {
        return at(t, Step.DHCP).withDhcp(kind).withAddress("10.0.0.5");
    }

    /** What it emits for a PXE or iPXE client: firmware and a boot file. */
    private static BootEvent firmwareDhcp(Instant t) {
        return at(t, Step.DHCP).withDhcp(BootEvent.DhcpAnswer.ACK).withFirmware(dev.pivot.boot.Firmware.BIOS)
                .withFile("boot.ipxe");
    }

    @Test
    void theBootedSystemsOwnDhcpJoinsItsBootAndNeitherStallsItNorStartsAnother() {
        BootSessions sessions = new BootSessions();
        long id = sessions.cut(firmwareDhcp(T0)).orElseThrow().session().id();
        sessions.cut(at(T0.plusSeconds(8), Step.HANDOVER));
        BootSessions.Cut os = sessions.cut(plainDhcp(T0.plusSeconds(20), BootEvent.DhcpAnswer.ACK)).orElseThrow();
        assertThat(os.session().id()).as("the OS's lease is this boot's").isEqualTo(id);
        BootSessions.Cut renewal = sessions.cut(plainDhcp(T0.plus(Duration.ofHours(2)), BootEvent.DhcpAnswer.RENEW))
                .orElseThrow();
        assertThat(renewal.session().id()).as("even after a long silence").isEqualTo(id);
        assertThat(sessions.cutStalls(T0.plus(Duration.ofDays(1)), StallDeadlines.DEFAULT.with(List.of("dhcp=1"))))
                .isEmpty();

        BootSessions.Cut reboot = sessions.cut(firmwareDhcp(T0.plus(Duration.ofHours(3)))).orElseThrow();
        assertThat(reboot.session().id()).as("the firmware asking again is the next boot").isNotEqualTo(id);
        assertThat(reboot.seq()).isEqualTo(1);
    }

    @Test
    void aPlainDhcpInStage1WaitsOnTheStepBeforeIt() {
        // Loaders that pass no lease (PXELINUX, kexec): stage 1's udhcpc asks after it started.
        BootSessions sessions = new BootSessions();
        sessions.cut(firmwareDhcp(T0));
        sessions.cut(at(T0.plusSeconds(10), Step.STAGE1));
        sessions.cut(plainDhcp(T0.plusSeconds(11), BootEvent.DhcpAnswer.ACK));
        assertThat(sessions.cutStalls(T0.plusSeconds(130), StallDeadlines.DEFAULT)).as("stage 1's 120 s").isEmpty();
        assertThat(sessions.cutStalls(T0.plusSeconds(131), StallDeadlines.DEFAULT)).singleElement()
                .satisfies(c -> assertThat(c.event().detail()).isEqualTo("no next event within 120 s after stage1"));
    }

    @Test
    void aLateEventAfterTheStallJoinsTheSessionAndItIsNoLongerStalled() {
        BootSessions sessions = new BootSessions();
        sessions.cut(at(T0, Step.SCRIPT));
        sessions.cutStalls(T0.plusSeconds(121), StallDeadlines.DEFAULT);
        BootSessions.Cut late = sessions.cut(at(T0.plusSeconds(130), Step.KERNEL)).orElseThrow();
        assertThat(late.session().stalled()).isFalse();
        assertThat(late.session().events()).extracting(BootEvent::step)
                .containsExactly(Step.SCRIPT, Step.STALLED, Step.KERNEL);
    }

    @Test
    void finishedBootsAndStepsWithoutADeadlineNeverStall() {
        BootSessions sessions = new BootSessions();
        sessions.cut(at(T0, Step.HANDOVER));
        assertThat(sessions.cutStalls(T0.plus(Duration.ofDays(1)), StallDeadlines.DEFAULT)).isEmpty();
        BootSessions other = new BootSessions();
        other.cut(at(T0, Step.STAGE2));
        assertThat(other.cutStalls(T0.plus(Duration.ofDays(1)), StallDeadlines.DEFAULT.with(List.of("stage2=1"))))
                .isEmpty();
    }

    @Test
    void overridesAreCheckedAndNamed() {
        assertThat(StallDeadlines.DEFAULT.with(List.of("network=off")).after(Step.NETWORK)).isEmpty();
        assertThat(StallDeadlines.DEFAULT.with(List.of("root_fetched=30s")).after(Step.ROOT_FETCHED))
                .contains(Duration.ofSeconds(30));
        assertThatThrownBy(() -> StallDeadlines.DEFAULT.with(List.of("initrd")))
                .hasMessageContaining("--stall-after initrd: expected STEP=SECONDS");
        assertThatThrownBy(() -> StallDeadlines.DEFAULT.with(List.of("boot=3")))
                .hasMessageContaining("no step 'boot'");
        assertThatThrownBy(() -> StallDeadlines.DEFAULT.with(List.of("initrd=soon")))
                .hasMessageContaining("'soon' is not a number");
        assertThatThrownBy(() -> StallDeadlines.DEFAULT.with(List.of("initrd=0")))
                .hasMessageContaining("1..86400");
    }
}
