package dev.pivot.api;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
import dev.pivot.history.BootSession;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class SessionStateTest {

    private static final MacAddress MAC = MacAddress.parse("52:54:00:00:00:07");
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static String state(Step... steps) {
        return Views.state(new BootSession(1, MAC, Arrays.stream(steps)
                .map(s -> new BootEvent(T0, MAC, s, false, s.wire(), 0)).toList()));
    }

    @Test
    void aBootIsHandedOverOnceStage1HandsOverAndSucceededOnceStage2Reports() {
        assertThat(state(Step.DHCP, Step.KERNEL, Step.STAGE1)).isEqualTo("booting");
        assertThat(state(Step.DHCP, Step.STAGE1, Step.ROOT_FETCHED, Step.HANDOVER)).isEqualTo("handed_over");
        assertThat(state(Step.DHCP, Step.HANDOVER, Step.DHCP)).as("the OS's own DHCP after it")
                .isEqualTo("handed_over");
        assertThat(state(Step.DHCP, Step.HANDOVER, Step.STAGE2)).isEqualTo("succeeded");
        assertThat(state(Step.DHCP, Step.INITRD, Step.STALLED)).isEqualTo("stalled");
        BootSession failed = new BootSession(2, MAC, java.util.List.of(new BootEvent(T0, MAC, Step.HANDOVER, false,
                "exec /init", 0), new BootEvent(T0, MAC, Step.STAGE2, true, "dm-verity", 0)));
        assertThat(Views.state(failed)).isEqualTo("failed");
    }
}
