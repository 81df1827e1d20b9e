package dev.pivot.boot;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A machine Pivot has seen boot.
 *
 * @param firmware what its DHCP requests said (option 93 / vendor class); empty until one did
 * @param labels   free-form name → value pairs an operator attached
 */
public record Machine(MacAddress mac, Instant firstSeen, Instant lastSeen, Optional<Firmware> firmware,
                      Map<String, String> labels) {

    public Machine {
        labels = Map.copyOf(labels);
    }
}
