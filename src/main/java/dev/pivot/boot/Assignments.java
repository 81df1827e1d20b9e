package dev.pivot.boot;

import java.time.Instant;
import java.util.Optional;

/** Per-machine profile assignments an operator made (`pivot assign`); they outrank groups and the default. */
public interface Assignments {

    /**
     * @param once the machine boots the profile for one successful boot (stage 2 reached), then falls back
     */
    record Assignment(MacAddress mac, String profile, boolean once, Instant at) {
    }

    Optional<Assignment> assignment(MacAddress mac);

    /** Replaces any earlier assignment of the machine; it need not have been seen yet. */
    void assign(Assignment assignment);

    /** False when there was none. */
    boolean unassign(MacAddress mac);
}
