package dev.pivot.boot;

import java.util.Map;
import java.util.Optional;

/**
 * A group that picks machines by what Pivot knows of them rather than by MAC: their firmware and the labels an
 * operator set. Every selector given must match; a group matching more selectors is more specific and wins.
 *
 * @param group    the group's name, for "why does it boot this"
 * @param profile  what its machines boot
 * @param firmware the firmware its machines have ({@link Machine#firmware()}), or any
 * @param labels   label name → value, all required
 */
public record GroupSelector(String group, String profile, Optional<Firmware> firmware, Map<String, String> labels) {

    public GroupSelector {
        labels = Map.copyOf(labels);
        if (firmware.isEmpty() && labels.isEmpty()) {
            throw new IllegalArgumentException("group " + group + " selects no machines (give firmware or labels)");
        }
    }

    /** How many selectors {@code machine} matches, or -1 when it misses any of them. */
    public int specificity(Machine machine) {
        if (firmware.isPresent() && !firmware.equals(machine.firmware())) {
            return -1;
        }
        for (Map.Entry<String, String> label : labels.entrySet()) {
            if (!label.getValue().equals(machine.labels().get(label.getKey()))) {
                return -1;
            }
        }
        return (firmware.isPresent() ? 1 : 0) + labels.size();
    }
}
