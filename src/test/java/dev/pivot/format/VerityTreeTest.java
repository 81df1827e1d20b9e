package dev.pivot.format;

import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The hash tree against cryptsetup's veritysetup: the same root hash and byte-identical tree files. */
class VerityTreeTest {

    @TempDir
    Path tmp;

    @Test
    void matchesVeritysetupForOneTwoAndThreeLevels() throws Exception {
        Tools.require("veritysetup", "cryptsetup-bin");
        // 2 blocks and 128 (one level), 200 blocks (two), 20000 blocks (three: 128 * 128 = 16384 < 20000)
        for (int blocks : new int[] {2, 128, 200, 20_000}) {
            Path image = tmp.resolve("image-" + blocks);
            byte[] bytes = new byte[blocks * VerityTree.BLOCK];
            new Random(blocks).nextBytes(bytes);
            Files.write(image, bytes);
            String salt = "00112233445566778899aabbccddeeff";
            Path theirs = tmp.resolve("theirs-" + blocks);
            String out = Tools.sh(tmp, "veritysetup format --no-superblock --format=1 --hash=sha256"
                    + " --data-block-size=4096 --hash-block-size=4096 --salt=" + salt + " " + image + " " + theirs);
            String root = out.lines().filter(l -> l.startsWith("Root hash:")).findFirst().orElseThrow()
                    .replace("Root hash:", "").strip();
            Path ours = tmp.resolve("ours-" + blocks);
            VerityTree tree;
            try (OutputStream o = Files.newOutputStream(ours)) {
                tree = VerityTree.build(image, java.util.HexFormat.of().parseHex(salt), o);
            }
            assertThat(tree.rootHash()).as("root hash, %d blocks", blocks).isEqualTo(root);
            assertThat(tree.dataBlocks()).isEqualTo(blocks);
            assertThat(Files.mismatch(ours, theirs)).as("tree bytes, %d blocks", blocks).isEqualTo(-1L);
            assertThat(tree.table("/dev/nbd0", "/dev/nbd1")).isEqualTo("0 " + blocks * 8 + " verity 1 /dev/nbd0"
                    + " /dev/nbd1 4096 4096 " + blocks + " 0 sha256 " + root + " " + salt);
        }
    }
}
