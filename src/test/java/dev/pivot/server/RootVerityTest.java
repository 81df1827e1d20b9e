package dev.pivot.server;

import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import dev.pivot.format.VerityTree;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class RootVerityTest {

    @TempDir
    Path state;

    private final ByteArrayOutputStream said = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(said, true, StandardCharsets.UTF_8);

    private Artifact image(ArtifactStore store, int bytes) throws Exception {
        byte[] content = new byte[bytes];
        new Random(bytes).nextBytes(content);
        return store.put(new ByteArrayInputStream(content), "root.squashfs");
    }

    @Test
    void theTreeIsBuiltOnceStoredAndRememberedByTheNextServer() throws Exception {
        ArtifactStore store = ArtifactStore.open(state.resolve("artifacts"));
        Artifact image = image(store, 300 * VerityTree.BLOCK);
        RootVerity first = new RootVerity(store, state.resolve("verity"), out);

        RootVerity.Tree tree = first.of(image).orElseThrow();

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        VerityTree made = VerityTree.build(store.path(image), new byte[0], expected);
        assertThat(tree.rootHash()).isEqualTo(made.rootHash());
        assertThat(tree.dataBlocks()).isEqualTo(300);
        assertThat(Files.readAllBytes(store.path(tree.tree()))).isEqualTo(expected.toByteArray());
        assertThat(first.tree(tree.tree().sha256())).contains(tree);
        assertThat(first.treeHashes()).containsExactly(tree.tree().sha256());
        assertThat(said.toString(StandardCharsets.UTF_8)).contains("dm-verity hash tree of root image "
                + image.sha256() + ": root hash " + made.rootHash());

        said.reset();
        RootVerity next = new RootVerity(store, state.resolve("verity"), out);
        assertThat(next.of(image)).contains(tree);
        assertThat(said.toString(StandardCharsets.UTF_8)).as("not built again").isEmpty();
    }

    @Test
    void aTreeRemovedFromTheStoreIsBuiltAgain() throws Exception {
        ArtifactStore store = ArtifactStore.open(state.resolve("artifacts"));
        Artifact image = image(store, 3 * VerityTree.BLOCK);
        RootVerity.Tree tree = new RootVerity(store, state.resolve("verity"), out).of(image).orElseThrow();
        store.collect(java.util.Set.of(image.sha256()), java.time.Instant.now().plusSeconds(60));
        assertThat(store.find(tree.tree().sha256())).isEmpty();

        RootVerity.Tree again = new RootVerity(store, state.resolve("verity"), out).of(image).orElseThrow();
        assertThat(again.rootHash()).isEqualTo(tree.rootHash());
        assertThat(store.find(again.tree().sha256())).isPresent();
    }

    @Test
    void anImageOfPartBlocksGetsNoTreeAndTheServerSaysWhy() throws Exception {
        ArtifactStore store = ArtifactStore.open(state.resolve("artifacts"));
        Artifact image = image(store, 3 * VerityTree.BLOCK + 100);
        RootVerity verity = new RootVerity(store, state.resolve("verity"), out);

        assertThat(verity.of(image)).isEqualTo(Optional.empty());
        assertThat(verity.treeHashes()).isEmpty();
        assertThat(said.toString(StandardCharsets.UTF_8)).contains("root image " + image.sha256()
                + " has no dm-verity hash tree: its size, 12388 bytes, is not a whole number");
    }
}
