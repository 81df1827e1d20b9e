package dev.pivot.boot;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** Per-machine profile assignments an operator made (`pivot assign`); they outrank groups and the default. */
public interface Assignments {

    /**
     * @param once       the machine boots the profile for one successful boot (stage 2 reached), then falls back
     * @param generation the profile's generation to boot (`PROFILE@N`); empty: the profile's default
     */
    record Assignment(MacAddress mac, String profile, boolean once, Instant at, OptionalInt generation) {

        public Assignment(MacAddress mac, String profile, boolean once, Instant at) {
            this(mac, profile, once, at, OptionalInt.empty());
        }
    }

    Optional<Assignment> assignment(MacAddress mac);

    /** Every assignment (pruning keeps the generations they name). */
    List<Assignment> all();

    /** Replaces any earlier assignment of the machine; it need not have been seen yet. */
    void assign(Assignment assignment);

    /** False when there was none. */
    boolean unassign(MacAddress mac);
}
