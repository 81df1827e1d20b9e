package dev.pivot.boot;

import dev.pivot.events.BootEvent;
import dev.pivot.events.Step;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A machine Pivot has seen boot.
 *
 * @param firmware "bios", "uefi" or "uefi-http", as far as the first loader it asked for tells; empty until then
 * @param labels   free-form name → value pairs an operator attached
 */
public record Machine(MacAddress mac, Instant firstSeen, Instant lastSeen, Optional<String> firmware,
                      Map<String, String> labels) {

    public Machine {
        labels = Map.copyOf(labels);
    }

    /**
     * The firmware an event reveals: a BIOS PXE ROM fetches undionly.kpxe, UEFI PXE an .efi loader over TFTP,
     * UEFI HTTP Boot gets an http:// URL from DHCP. iPXE's own requests reveal nothing.
     */
    public static Optional<String> firmwareOf(BootEvent event) {
        if (event.failed() || (event.step() != Step.DHCP && event.step() != Step.TFTP)) {
            return Optional.empty();
        }
        String detail = event.detail();
        if (detail.contains("undionly.kpxe")) {
            return Optional.of("bios");
        }
        if (detail.endsWith(".efi")) {
            return Optional.of(detail.contains("http://") ? "uefi-http" : "uefi");
        }
        return Optional.empty();
    }
}
