package dev.pivot.history;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;

import java.util.List;
import java.util.Optional;

/**
 * One boot of one machine: its events in the order they happened, from DHCP to stage 2 or to a failure.
 *
 * @param server the server that recorded it, when servers share a store (read back from the store only)
 */
public record BootSession(long id, MacAddress mac, List<BootEvent> events, Optional<String> server) {

    public BootSession {
        events = List.copyOf(events);
    }

    public BootSession(long id, MacAddress mac, List<BootEvent> events) {
        this(id, mac, events, Optional.empty());
    }

    public boolean reachedStage2() {
        return events.stream().anyMatch(e -> e.step() == Step.STAGE2 && !e.failed());
    }

    public Optional<BootEvent> failure() {
        return events.stream().filter(BootEvent::failed).findFirst();
    }

    /** True when the boot's last word is Pivot's: no next event came within the step's deadline. */
    public boolean stalled() {
        return !events.isEmpty() && events.getLast().step() == Step.STALLED;
    }

    /**
     * True once Pivot's part of the boot is done: its stage 1 handed over to the image's init, or (with no stage 1 of
     * Pivot's) the last file went out. What the machine says after that (a stage-2 report, its OS's DHCP) still joins.
     */
    public boolean handedOver() {
        return events.stream().anyMatch(e -> e.step() == Step.HANDOVER && !e.failed());
    }

    public boolean finished() {
        return reachedStage2() || failure().isPresent() || stalled() || handedOver();
    }
}
