package dev.pivot.artifacts;

import dev.pivot.boot.Artifact;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ArtifactStoreTest {

    @TempDir
    Path root;

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private List<String> objectFiles() throws IOException {
        try (Stream<Path> files = Files.list(root.resolve("objects"))) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void putStoresUnderTheSha256AndKeepsTheName() throws Exception {
        ArtifactStore store = ArtifactStore.open(root);
        byte[] bytes = "kernel bytes".getBytes(StandardCharsets.UTF_8);

        Artifact artifact = store.put(new ByteArrayInputStream(bytes), "bzImage");

        assertThat(artifact).isEqualTo(new Artifact(sha256(bytes), bytes.length, "bzImage"));
        assertThat(store.path(artifact)).isEqualTo(root.resolve("objects").resolve(sha256(bytes)));
        assertThat(Files.readAllBytes(store.path(artifact))).isEqualTo(bytes);
        assertThat(objectFiles()).containsExactly(sha256(bytes), sha256(bytes) + ".name");
        assertThat(store.find(sha256(bytes))).contains(artifact);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(store.path(artifact)))).isEqualTo("r--r--r--");
    }

    /** Bytes fetched by sha256 are stored only when they are exactly the artifact asked for. */
    @Test
    void putExpectedStoresOnlyTheBytesOfThatSha256AndSize() throws Exception {
        ArtifactStore store = ArtifactStore.open(root);
        byte[] bytes = "the kernel".getBytes(StandardCharsets.UTF_8);
        Artifact wanted = ArtifactStore.open(root.resolveSibling("elsewhere")).put(new ByteArrayInputStream(bytes),
                "bzImage");
        assertThatThrownBy(() -> store.putExpected(new ByteArrayInputStream("the kernel!".getBytes(
                StandardCharsets.UTF_8)), wanted)).hasMessageContaining("bzImage: expected 10 bytes of sha256 "
                + wanted.sha256() + ", got more; not stored");
        assertThatThrownBy(() -> store.putExpected(new ByteArrayInputStream("the kerneL".getBytes(
                StandardCharsets.UTF_8)), wanted)).hasMessageContaining("got 10 bytes of sha256 ");
        assertThatThrownBy(() -> store.putExpected(new ByteArrayInputStream(new byte[3]), wanted))
                .hasMessageContaining("got 3 bytes");
        try (var listed = Files.list(root.resolve("objects"))) {
            assertThat(listed.toList()).as("nothing stored, no temporary file left").isEmpty();
        }
        assertThat(store.putExpected(new ByteArrayInputStream(bytes), wanted)).isEqualTo(wanted);
        assertThat(Files.readAllBytes(store.path(wanted))).isEqualTo(bytes);
    }

    @Test
    void aReopenedStoreFindsArtifactsWithTheirNames() throws Exception {
        Artifact artifact = ArtifactStore.open(root).put(new ByteArrayInputStream(new byte[] {1, 2, 3}), "initrd");
        ArtifactStore reopened = ArtifactStore.open(root);
        assertThat(reopened.find(artifact.sha256())).contains(artifact);
        assertThat(reopened.find("0".repeat(64))).isEmpty();
        assertThat(reopened.find("../../etc/passwd")).isEmpty();
    }

    @Test
    void putIsIdempotent() throws Exception {
        ArtifactStore store = ArtifactStore.open(root);
        Artifact first = store.put(new ByteArrayInputStream(new byte[] {9, 9}), "a");
        Object inode = Files.readAttributes(store.path(first), java.nio.file.attribute.BasicFileAttributes.class)
                .fileKey();
        Files.setLastModifiedTime(store.path(first), java.nio.file.attribute.FileTime.from(
                java.time.Instant.parse("2020-01-01T00:00:00Z")));
        Artifact second = store.put(new ByteArrayInputStream(new byte[] {9, 9}), "a");
        assertThat(second).isEqualTo(first);
        assertThat(Files.readAttributes(store.path(first), java.nio.file.attribute.BasicFileAttributes.class)
                .fileKey()).as("the stored file is the same file").isEqualTo(inode);
        assertThat(Files.getLastModifiedTime(store.path(first)).toInstant())
                .as("storing it again marks it as in use").isAfter(java.time.Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(objectFiles()).hasSize(2);
    }

    @Test
    void collectRemovesOnlyWhatIsUnreferencedAndOld() throws Exception {
        ArtifactStore store = ArtifactStore.open(root);
        Artifact kept = store.put(new ByteArrayInputStream(new byte[] {1}), "kept");
        Artifact old = store.put(new ByteArrayInputStream(new byte[] {2, 2}), "old");
        Artifact recent = store.put(new ByteArrayInputStream(new byte[] {3, 3, 3}), "recent");
        java.time.Instant now = java.time.Instant.now();
        for (Artifact a : List.of(kept, old)) {
            Files.setLastModifiedTime(store.path(a), java.nio.file.attribute.FileTime.from(now.minusSeconds(86_400 * 40)));
        }
        Files.writeString(root.resolve("objects/.incoming-123.tmp"), "a write in progress");

        ArtifactStore.Collected collected = store.collect(java.util.Set.of(kept.sha256()), now.minusSeconds(86_400 * 30));

        assertThat(collected).isEqualTo(new ArtifactStore.Collected(1, 2, 2));
        assertThat(objectFiles()).containsExactlyInAnyOrder(kept.sha256(), kept.sha256() + ".name", recent.sha256(),
                recent.sha256() + ".name", ".incoming-123.tmp");
        assertThat(store.find(old.sha256())).isEmpty();
        assertThat(ArtifactStore.open(root).find(kept.sha256())).contains(kept);
    }

    @Test
    void padded4ZeroPadsToAMultipleOfFour() throws Exception {
        ArtifactStore store = ArtifactStore.open(root);
        for (int length = 0; length < 9; length++) {
            byte[] bytes = new byte[length];
            java.util.Arrays.fill(bytes, (byte) 7);
            Artifact artifact = store.putPadded4(new ByteArrayInputStream(bytes), "initrd");
            byte[] stored = Files.readAllBytes(store.path(artifact));
            assertThat(stored.length % 4).isZero();
            assertThat(stored.length).isLessThan(length + 4).isGreaterThanOrEqualTo(length);
            assertThat(java.util.Arrays.copyOf(stored, length)).isEqualTo(bytes);
            assertThat(java.util.Arrays.copyOfRange(stored, length, stored.length)).isEqualTo(new byte[stored.length - length]);
            assertThat(artifact.sha256()).isEqualTo(sha256(stored));
            assertThat(artifact.size()).isEqualTo(stored.length);
        }
    }

    @Test
    void aFailedWriteLeavesNothingBehind() throws Exception {
        ArtifactStore store = ArtifactStore.open(root);
        InputStream failing = new InputStream() {
            int sent;

            @Override
            public int read() throws IOException {
                if (sent++ > 100_000) {
                    throw new IOException("disk on fire");
                }
                return 'x';
            }
        };
        assertThatThrownBy(() -> store.put(failing, "nix-store.squashfs")).hasMessage("disk on fire");
        assertThat(objectFiles()).isEmpty();
    }

    @Test
    void concurrentPutsOfTheSameContentAgree() throws Exception {
        ArtifactStore store = ArtifactStore.open(root);
        byte[] bytes = new byte[1 << 20];
        new java.util.Random(2).nextBytes(bytes);
        List<Future<Artifact>> futures = new ArrayList<>();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 8; i++) {
                futures.add(executor.submit(() -> store.put(new ByteArrayInputStream(bytes), "same")));
            }
        }
        for (Future<Artifact> future : futures) {
            assertThat(future.get().sha256()).isEqualTo(sha256(bytes));
        }
        assertThat(objectFiles()).containsExactly(sha256(bytes), sha256(bytes) + ".name");
        assertThat(Files.readAllBytes(store.path(futures.getFirst().get()))).isEqualTo(bytes);
    }

    @Test
    void badNamesAreRefused() throws Exception {
        ArtifactStore store = ArtifactStore.open(root);
        assertThatThrownBy(() -> store.put(new ByteArrayInputStream(new byte[0]), "../escape"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("../escape");
    }
}
