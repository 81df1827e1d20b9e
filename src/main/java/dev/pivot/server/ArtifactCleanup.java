package dev.pivot.server;

import dev.pivot.api.ArtifactCollector;
import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootCatalog;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Removes stored artifacts that no boot this server can hand out uses (every kept generation of every profile,
 * the served DIR's among them) and that were not stored or imported again within an age: on start past
 * {@code --gc-after} days, and when `pivot gc` asks through the API.
 */
final class ArtifactCleanup implements ArtifactCollector {

    private final ArtifactStore store;
    private final BootCatalog catalog;
    ArtifactCleanup(ArtifactStore store, BootCatalog catalog) {
        this.store = store;
        this.catalog = catalog;
    }

    @Override
    public Result collect(Duration olderThan) throws IOException {
        Set<String> inUse = catalog.allSpecs().stream().flatMap(spec -> spec.artifacts().stream())
                .map(Artifact::sha256).collect(Collectors.toSet());
        ArtifactStore.Collected c = store.collect(inUse, Instant.now().minus(olderThan));
        return new Result(c.objects(), c.bytes(), c.kept());
    }
}
