package dev.pivot.server;

import dev.pivot.artifacts.ArtifactStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A state directory as `pivot serve --state` lays it out, for the commands that import DIR into it: serve keeps
 * one; `image inspect` borrows one (--state) or makes a temporary one, so that the same artifacts get the same
 * sha256s wherever they are imported.
 */
public final class StateDir {

    /** What a command does with the store it imported into. */
    public interface Work<T> {
        T with(ArtifactStore store) throws Exception;
    }

    private StateDir() {
    }

    /** The content-addressed artifact store of the state directory {@code state}. */
    public static ArtifactStore artifacts(Path state) throws IOException {
        return ArtifactStore.open(state.resolve("artifacts"));
    }

    /**
     * Runs {@code work} on the artifact store of {@code state}, or, when {@code state} is null, of a temporary state
     * directory (named {@code temporaryPrefix}…) that is deleted afterwards.
     */
    public static <T> T withArtifacts(Path state, String temporaryPrefix, Work<T> work) throws Exception {
        Path temporary = state == null ? Files.createTempDirectory(temporaryPrefix) : null;
        try {
            return work.with(artifacts(state != null ? state : temporary));
        } finally {
            if (temporary != null) {
                deleteTree(temporary);
            }
        }
    }

    /**
     * The state directory is the server's alone (0700): the event log names every machine and address, the keys
     * in it sign the per-boot secrets and API access.
     */
    static void restrict(Path state) throws IOException {
        if (Files.getFileStore(state).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(state, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        }
    }

    /** The files the server wrote at its top level (pivot.db and its journal, leases, keys): 0600. */
    static void restrictFiles(Path state) throws IOException {
        if (!Files.getFileStore(state).supportsFileAttributeView("posix")) {
            return;
        }
        try (Stream<Path> files = Files.list(state)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            }
        }
    }

    /** Deletes a (temporary) state directory and everything under it. */
    public static void deleteTree(Path root) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
