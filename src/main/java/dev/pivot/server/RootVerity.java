package dev.pivot.server;

import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import dev.pivot.format.VerityTree;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * The dm-verity hash tree of each root image served over NBD. It is built once, when the image is first served
 * (one read of the image), stored as an artifact of its own (so a restart or another profile reuses it), and
 * served as a second NBD export named by its own sha256. Stage 1 gets the root hash on the kernel command line, so
 * every block the machine reads is checked by the kernel without the whole image crossing the network.
 *
 * <p>The tree covers whole 4096-byte blocks: an image whose size is not a multiple of 4096 gets none (mksquashfs
 * pads to 4 KiB unless told not to), and stage 1 then says that its blocks are not checked.
 */
final class RootVerity {

    /** What stage 1 needs: the tree (an export of its own) and the root hash; data blocks = image size / 4096. */
    record Tree(Artifact tree, String rootHash, long dataBlocks) {
    }

    private final ArtifactStore store;
    private final Path index;
    private final PrintStream out;
    private final Map<String, Optional<Tree>> byImage = new ConcurrentHashMap<>();

    /** @param index a directory for "image sha256 → root hash, tree sha256" (the tree itself is in the store) */
    RootVerity(ArtifactStore store, Path index, PrintStream out) throws IOException {
        this.store = store;
        this.index = Files.createDirectories(index);
        this.out = out;
    }

    /** The image's tree, built now if it was never built; empty when the image cannot have one (said once). */
    Optional<Tree> of(Artifact image) {
        return byImage.computeIfAbsent(image.sha256(), sha -> {
            try {
                return remembered(image).or(() -> build(image));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The tree with this sha256, when it is one of the served images' trees (the NBD export's lookup). */
    Optional<Tree> tree(String sha256) {
        return byImage.values().stream().flatMap(Optional::stream).filter(t -> t.tree().sha256().equals(sha256))
                .findFirst();
    }

    /** Every tree known: the artifact cleanup keeps them. */
    Set<String> treeHashes() {
        return byImage.values().stream().flatMap(Optional::stream).map(t -> t.tree().sha256())
                .collect(Collectors.toSet());
    }

    private Optional<Tree> remembered(Artifact image) throws IOException {
        Path line = index.resolve(image.sha256());
        if (!Files.isRegularFile(line)) {
            return Optional.empty();
        }
        String[] words = Files.readString(line, StandardCharsets.US_ASCII).strip().split(" ");
        if (words.length != 2 || !words[0].matches("[0-9a-f]{64}")) {
            return Optional.empty();
        }
        return store.find(words[1]).map(t -> new Tree(t, words[0], image.size() / VerityTree.BLOCK));
    }

    private Optional<Tree> build(Artifact image) {
        if (image.size() % VerityTree.BLOCK != 0 || image.size() < 2L * VerityTree.BLOCK) {
            out.printf("pivot: root image %s has no dm-verity hash tree: its size, %d bytes, is not a whole number"
                    + " (2 or more) of %d-byte blocks; stage 1 will say its blocks are not checked%n", image.sha256(),
                    image.size(), VerityTree.BLOCK);
            return Optional.empty();
        }
        try {
            long t0 = System.nanoTime();
            VerityTree[] made = new VerityTree[1];
            // No salt: the tree vouches for one content-addressed image and is made here, not by someone who could
            // search for collisions across images; a salt would only lengthen every kernel command line.
            Artifact tree = store.write(image.sha256() + ".verity", false,
                    o -> made[0] = VerityTree.build(store.path(image), new byte[0], o));
            Files.writeString(index.resolve(image.sha256()), made[0].rootHash() + " " + tree.sha256() + "\n",
                    StandardCharsets.US_ASCII);
            out.printf("pivot: dm-verity hash tree of root image %s: root hash %s, %d bytes, built in %.1f s%n",
                    image.sha256(), made[0].rootHash(), tree.size(), (System.nanoTime() - t0) / 1e9);
            return Optional.of(new Tree(tree, made[0].rootHash(), made[0].dataBlocks()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the dm-verity hash tree of root image " + image.sha256()
                    + ": " + e.getMessage(), e);
        }
    }
}
