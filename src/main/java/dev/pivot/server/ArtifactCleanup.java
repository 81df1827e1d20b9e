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
    private final java.util.function.Supplier<Set<String>> alsoInUse;

    /** @param alsoInUse what the catalog does not name but serves (the root images' dm-verity trees) */
    ArtifactCleanup(ArtifactStore store, BootCatalog catalog, java.util.function.Supplier<Set<String>> alsoInUse) {
        this.store = store;
        this.catalog = catalog;
        this.alsoInUse = alsoInUse;
    }

    @Override
    public Result collect(Duration olderThan) throws IOException {
        Set<String> inUse = catalog.allSpecs().stream().flatMap(spec -> spec.artifacts().stream())
                .map(Artifact::sha256).collect(Collectors.toCollection(java.util.HashSet::new));
        inUse.addAll(alsoInUse.get());
        ArtifactStore.Collected c = store.collect(inUse, Instant.now().minus(olderThan));
        return new Result(c.objects(), c.bytes(), c.kept());
    }
}
