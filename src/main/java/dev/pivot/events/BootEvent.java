package dev.pivot.events;

import dev.pivot.boot.MacAddress;

import java.time.Instant;

/**
 * One thing that happened in a machine's boot, as a protocol server or stage 1 saw it.
 *
 * @param at     when it happened
 * @param mac    which machine
 * @param step   which step of the boot
 * @param failed true when this step failed; detail then says why
 * @param detail a short human text: the file name, the address offered, the failure reason
 * @param bytes  bytes moved in this step (0 when none)
 */
public record BootEvent(Instant at, MacAddress mac, Step step, boolean failed, String detail, long bytes) {

    public static BootEvent ok(MacAddress mac, Step step, String detail, long bytes) {
        return new BootEvent(Instant.now(), mac, step, false, detail, bytes);
    }

    public static BootEvent failed(MacAddress mac, Step step, String reason) {
        return new BootEvent(Instant.now(), mac, step, true, reason, 0);
    }
}
