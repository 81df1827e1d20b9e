package dev.pivot.server;

import dev.pivot.api.ArtifactCollector;
import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.BootSpec;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Removes stored artifacts that no boot this server can hand out uses (every profile's spec, every kept
 * generation, the served image) and that were not stored or imported again within an age: on start past
 * {@code --gc-after} days, and when `pivot gc` asks through the API.
 */
final class ArtifactCleanup implements ArtifactCollector {

    private final ArtifactStore store;
    private final BootCatalog catalog;
    private final BootSpec served;

    ArtifactCleanup(ArtifactStore store, BootCatalog catalog, BootSpec served) {
        this.store = store;
        this.catalog = catalog;
        this.served = served;
    }

    @Override
    public Result collect(Duration olderThan) throws IOException {
        Set<String> inUse = catalog.allSpecs().stream().flatMap(spec -> spec.artifacts().stream())
                .map(Artifact::sha256).collect(Collectors.toSet());
        served.artifacts().forEach(a -> inUse.add(a.sha256()));
        ArtifactStore.Collected c = store.collect(inUse, Instant.now().minus(olderThan));
        return new Result(c.objects(), c.bytes(), c.kept());
    }
}
