package dev.pivot.boot;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/** Where generations, rollbacks and each machine's running generation are kept, so a restart keeps them. */
public interface GenerationStore {

    /** Which generation a machine last reached stage 2 with. */
    record Running(MacAddress mac, String profile, int generation, Instant at) {
    }

    /** The profile's stored generations, newest first, and its rollback pin; empty when none is stored. */
    Optional<ProfileGenerations> generations(String profile);

    /**
     * Stores a new generation (a new build of the profile); false when the profile has a generation of that number
     * already (another server sharing the store recorded one first), and then nothing is stored.
     */
    boolean addGeneration(String profile, Generation generation);

    void removeGenerations(String profile, List<Integer> numbers);

    /** The default a rollback chose; empty: the newest. */
    void pinDefault(String profile, OptionalInt generation);

    void recordRunning(Running running);

    Map<MacAddress, Running> running();
}
