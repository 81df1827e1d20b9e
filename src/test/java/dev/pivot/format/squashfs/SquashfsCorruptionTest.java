package dev.pivot.format.squashfs;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/** Truncated, corrupted and unsupported images give one clear SquashfsException, never another exception. */
class SquashfsCorruptionTest {

    @TempDir
    static Path work;
    static Path src;

    @BeforeAll
    static void makeTree() throws IOException {
        src = SquashfsFixtures.tree(work);
    }

    @Test
    void truncatedImagesSayWhatIsCut() throws Exception {
        Path image = SquashfsFixtures.image(src, work, "whole", "-comp zstd -b 4096");
        byte[] bytes = Files.readAllBytes(image);
        Superblock sb;
        try (SquashfsImage sq = SquashfsImage.open(image)) {
            sb = sq.superblock();
        }
        Path cut = work.resolve("cut.squashfs");

        Files.write(cut, Arrays.copyOf(bytes, 50));
        assertThatThrownBy(() -> SquashfsImage.open(cut)).isInstanceOf(SquashfsException.class)
                .hasMessage(cut + ": truncated: 50 bytes, less than a squashfs superblock (96 bytes)");

        int inodeTable = (int) sb.inodeTableStart();
        Files.write(cut, Arrays.copyOf(bytes, inodeTable - 100));
        assertThatThrownBy(() -> SquashfsImage.open(cut)).isInstanceOf(SquashfsException.class)
                .hasMessage(cut + ": truncated: inode table at " + inodeTable + " past end of file ("
                        + (inodeTable - 100) + " bytes)");

        int used = (int) sb.bytesUsed();
        Files.write(cut, Arrays.copyOf(bytes, used - 1));
        assertThatThrownBy(() -> SquashfsImage.open(cut)).isInstanceOf(SquashfsException.class)
                .hasMessage(cut + ": truncated: the superblock says the image is " + used + " bytes, the file has "
                        + (used - 1));

        // Cut anywhere: always the one clear error, from open() or at the latest while reading.
        for (int length = 0; length < used; length += 97) {
            Files.write(cut, Arrays.copyOf(bytes, length));
            assertThat(readEverything(cut)).as("cut at %d", length).startsWith(cut + ": ").contains("truncated");
        }
        // The padding after bytesUsed is not needed.
        Files.write(cut, Arrays.copyOf(bytes, used));
        assertThat(readEverything(cut)).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"-comp gzip -b 4096", "-comp xz -b 4096", "-comp zstd -b 4096",
            "-comp gzip -b 4096 -noI -noD -noF -noX"})
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void corruptedBytesGiveOnlySquashfsExceptions(String options) throws Exception {
        Path image = SquashfsFixtures.image(src, work, "flip-" + options.replaceAll("[^a-z0-9]+", "_"), options);
        byte[] bytes = Files.readAllBytes(image);
        long used;
        try (SquashfsImage sq = SquashfsImage.open(image)) {
            used = sq.superblock().bytesUsed();
        }
        Path bad = work.resolve("bad.squashfs");
        long seed = options.hashCode(); // fixed per image kind, printed so a failure names it
        System.out.println("SquashfsCorruptionTest [" + options + "] seed " + seed);
        Random random = new Random(seed);
        int failures = 0;
        for (int trial = 0; trial < 300; trial++) {
            byte[] copy = bytes.clone();
            int flips = 1 + random.nextInt(4);
            for (int i = 0; i < flips; i++) {
                // A third of the trials hit the superblock, the rest the tables and data after it.
                int at = trial % 3 == 0 ? 4 + random.nextInt(Superblock.SIZE - 4)
                        : Superblock.SIZE + random.nextInt((int) used - Superblock.SIZE);
                copy[at] ^= (byte) (1 << random.nextInt(8));
            }
            Files.write(bad, copy);
            String error = readEverything(bad);
            if (error != null) {
                assertThat(error).startsWith(bad + ": ");
                failures++;
            }
        }
        assertThat(failures).as("corruptions noticed").isPositive();
    }

    @Test
    void badSuperblocksAreNamed() throws Exception {
        Path image = SquashfsFixtures.image(src, work, "sb", "-comp gzip -b 4096");
        byte[] bytes = Files.readAllBytes(image);
        Path bad = work.resolve("sb-bad.squashfs");

        Files.write(bad, patched(bytes, 0, 0x12345678));
        assertThatThrownBy(() -> SquashfsImage.open(bad))
                .hasMessage(bad + ": not a squashfs image (no \"hsqs\" magic at offset 0)");
        Files.write(bad, patched(bytes, 0, Integer.reverseBytes(Superblock.MAGIC)));
        assertThatThrownBy(() -> SquashfsImage.open(bad))
                .hasMessage(bad + ": big-endian squashfs (version 3 or older) is not supported");
        byte[] v3 = bytes.clone();
        v3[28] = 3;
        v3[30] = 1;
        Files.write(bad, v3);
        assertThatThrownBy(() -> SquashfsImage.open(bad)).isInstanceOf(SquashfsException.class)
                .hasMessage(bad + ": squashfs version 3.1 is not supported (only 4.0)");
        Files.write(bad, patched(bytes, 12, 3000));
        assertThatThrownBy(() -> SquashfsImage.open(bad)).isInstanceOf(SquashfsException.class)
                .hasMessage(bad + ": corrupt superblock: block size 3000 with block log 12 (must be a power of two"
                        + " from 4 KiB to 1 MiB)");
        byte[] unknown = bytes.clone();
        unknown[20] = 9;
        Files.write(bad, unknown);
        assertThatThrownBy(() -> SquashfsImage.open(bad)).isInstanceOf(SquashfsException.class)
                .hasMessage(bad + ": corrupt superblock: unknown compression id 9");
        Files.write(bad, "not an image at all, but long enough to hold a superblock's worth of bytes.........."
                .repeat(2).getBytes());
        assertThatThrownBy(() -> SquashfsImage.open(bad)).isInstanceOf(SquashfsException.class)
                .hasMessageContaining("not a squashfs image");
        assertThatThrownBy(() -> SquashfsImage.open(work.resolve("absent.squashfs")))
                .isInstanceOf(SquashfsException.class).hasMessage(work.resolve("absent.squashfs") + ": no such file");
    }

    @ParameterizedTest
    @ValueSource(strings = {"lz4", "lzo", "lzma"})
    void unsupportedCompressionIsSaidPlainly(String compression) throws Exception {
        Path image = SquashfsFixtures.image(src, work, "c-" + compression, "-comp " + compression);
        assertThatThrownBy(() -> SquashfsImage.open(image)).isInstanceOf(SquashfsException.class)
                .hasMessage(image + ": unsupported compression " + compression + " (Pivot reads gzip, xz and zstd "
                        + "squashfs images; rebuild with mksquashfs -comp zstd)");
    }

    private static byte[] patched(byte[] bytes, int offset, int value) {
        byte[] copy = bytes.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, value);
        return copy;
    }

    /**
     * Opens the image, walks every directory (at most 12 deep: a corrupt image may loop) and reads every file and
     * symlink. Returns the SquashfsException's message, or null if all went through; any other exception fails.
     */
    static String readEverything(Path image) {
        try (SquashfsImage sq = SquashfsImage.open(image)) {
            visit(sq, sq.root(), 0, new int[] {0});
            sq.lookup("/init");
            return null;
        } catch (SquashfsException e) {
            return e.getMessage();
        } catch (Throwable e) {
            fail("not a SquashfsException for " + image, e);
            return null;
        }
    }

    private static void visit(SquashfsImage sq, Inode inode, int depth, int[] seen) throws IOException {
        if (depth > 12 || ++seen[0] > 5000) {
            return;
        }
        switch (inode) {
            case Inode.Directory dir -> {
                for (DirectoryEntry e : sq.list(dir)) {
                    visit(sq, sq.inode(e.inode()), depth + 1, seen);
                }
            }
            case Inode.RegularFile file -> {
                try (InputStream in = sq.open(file)) {
                    // A corrupt size may claim terabytes of sparse zeros; 64 MiB shows the reader keeps going.
                    in.transferTo(new LimitedSink(64L << 20));
                } catch (LimitReached e) {
                    // fine
                }
            }
            default -> {
            }
        }
    }

    private static final class LimitReached extends IOException {
    }

    private static final class LimitedSink extends OutputStream {
        private long left;

        LimitedSink(long limit) {
            left = limit;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            left -= len;
            if (left < 0) {
                throw new LimitReached();
            }
        }
    }

}
