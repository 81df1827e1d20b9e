package dev.pivot.api;

import java.io.IOException;
import java.time.Duration;

/**
 * Removes stored artifacts that no profile, generation or served image uses and that nothing stored again within
 * {@code olderThan}: what {@code POST /api/v1/artifacts/gc} and `pivot gc` run. The server supplies it.
 */
@FunctionalInterface
public interface ArtifactCollector {

    Result collect(Duration olderThan) throws IOException;

    /** Objects removed, the bytes they held, and objects kept. */
    record Result(int removed, long bytes, int kept) {
    }
}
