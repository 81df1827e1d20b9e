package dev.pivot.boot;

import java.nio.file.Path;
import java.util.Optional;

/** id → bytes: where the content-addressed artifacts live. Protocol servers stream from the returned file. */
public interface ArtifactSource {

    Optional<Artifact> find(String sha256);

    /** The file holding exactly the artifact's bytes. Never modified once stored. */
    Path path(Artifact artifact);
}
