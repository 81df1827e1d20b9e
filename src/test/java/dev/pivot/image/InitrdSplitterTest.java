package dev.pivot.image;

import dev.pivot.format.Compression;
import dev.pivot.format.cpio.CpioWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InitrdSplitterTest {

    @TempDir
    Path tmp;

    @ParameterizedTest(name = "stage 1 {0}, root {1}, {2} NULs between")
    @CsvSource({
            "gzip -9n, zstd -19 -q, 0",
            "gzip -9n, zstd -19 -q, 512",
            "gzip -9n, gzip -9n, 0",
            "gzip -9n, gzip -9n, 4",
            "xz --check=crc32, xz --check=crc32 --x86 --lzma2, 0",
            "xz --check=crc32, xz --check=crc32, 3",
            "xz --check=crc32 -T2 --block-size=4KiB, xz --check=crc32 -T2 --block-size=64KiB, 0",
            "zstd -19 -q -T2, gzip -1n, 4",
            "zstd -19 -q, zstd -19 -q, 0",
            "zstd -19 -q, zstd -19 -q, 100",
            "zstd -q, xz --check=crc32, 8",
            "cat, zstd -19 -q, 0",
            "cat, gzip -9n, 0",
            "gzip -9n, bzip2, 0",
            "gzip -9n, lzma, 0",
            "gzip -9n, lz4 -l -q, 0",
    })
    void findsTheExactStage1PartAndTheRootImage(String stage1Compressor, String rootCompressor, int padding)
            throws Exception {
        Path stage1 = Fixtures.compress(Fixtures.stage1Cpio(tmp, "stage1"), stage1Compressor);
        Path squashfs = Fixtures.fakeSquashfs(tmp, 700_001);
        Path root = Fixtures.compress(Fixtures.rootCpio(tmp, squashfs), rootCompressor);
        Path initrd = Fixtures.concat(tmp.resolve("initrd"), padding, stage1, root);

        ByteArrayOutputStream sunk = new ByteArrayOutputStream();
        InitrdLayout layout = InitrdSplitter.split(initrd, (entry, body) -> body.transferTo(sunk));

        assertThat(layout.segments()).hasSize(2);
        assertThat(layout.rootSegment()).isEqualTo(1);
        long stage1End = layout.segments().getFirst().end();
        if (stage1Compressor.equals("cat")) {
            // A plain cpio ends after its trailer; GNU cpio's padding to 512 bytes counts as NUL padding.
            assertThat(stage1End).isLessThanOrEqualTo(Files.size(stage1)).isGreaterThan(Files.size(stage1) - 512);
            assertThat(stage1End % 4).isZero();
        } else {
            assertThat(stage1End).as("exact end of the stage-1 segment").isEqualTo(Files.size(stage1));
        }
        assertThat(layout.segments().getFirst().entries())
                .hasSize(Fixtures.entryCount(tmp.resolve("stage1.cpio")));
        assertThat(layout.stage1Length()).isEqualTo(Files.size(stage1) + padding);
        assertThat(layout.rootEntry().size()).isEqualTo(Files.size(squashfs));

        byte[] expectedStage1 = Arrays.copyOf(Files.readAllBytes(stage1), (int) (Files.size(stage1) + padding));
        try (InputStream in = layout.openStage1()) {
            assertThat(in.readAllBytes()).isEqualTo(expectedStage1);
        }
        byte[] squashfsBytes = Files.readAllBytes(squashfs);
        assertThat(sunk.toByteArray()).isEqualTo(squashfsBytes);
        try (InputStream in = layout.openRootImage()) {
            assertThat(in.readAllBytes()).isEqualTo(squashfsBytes);
        }
    }

    @Test
    void stage1MadeOfSeveralArchivesIsKeptWhole() throws Exception {
        // Like a distro initrd: an uncompressed early cpio (microcode), then the compressed main one.
        Path early = Fixtures.stage1Cpio(tmp, "early");
        Path main = Fixtures.compress(Fixtures.stage1Cpio(tmp, "main"), "gzip -9n");
        Path squashfs = Fixtures.fakeSquashfs(tmp, 10_000);
        Path root = Fixtures.compress(Fixtures.rootCpio(tmp, squashfs), "zstd -19 -q");
        Path initrd = Fixtures.concat(tmp.resolve("initrd"), 0, early, main, root);

        InitrdLayout layout = InitrdSplitter.split(initrd);

        assertThat(layout.segments()).extracting(InitrdSegment::compression)
                .containsExactly(Compression.NONE, Compression.GZIP, Compression.ZSTD);
        assertThat(layout.rootSegment()).isEqualTo(2);
        assertThat(layout.stage1Length()).isEqualTo(Files.size(early) + Files.size(main));
        try (InputStream in = layout.openRootImage()) {
            assertThat(in.readAllBytes()).isEqualTo(Files.readAllBytes(squashfs));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"./nix-store.squashfs", "/nix-store.squashfs", "nix-store.squashfs"})
    void rootImageNameMayHaveALeadingDotSlashOrSlash(String name) throws Exception {
        Path stage1 = Fixtures.compress(Fixtures.stage1Cpio(tmp, "stage1"), "gzip -9n");
        Path squashfs = Fixtures.fakeSquashfs(tmp, 5_555);
        Path root = Fixtures.compress(Fixtures.rootCpioNamed(tmp, squashfs, name), "zstd -q");
        Path initrd = Fixtures.concat(tmp.resolve("initrd"), 0, stage1, root);

        InitrdLayout layout = InitrdSplitter.split(initrd);

        assertThat(layout.rootEntry().name()).isEqualTo(name);
        try (InputStream in = layout.openRootImage()) {
            assertThat(in.readAllBytes()).isEqualTo(Files.readAllBytes(squashfs));
        }
    }

    @Test
    void initrdWithoutTheRootImageListsItsArchives() throws Exception {
        Path cpio = Fixtures.stage1Cpio(tmp, "stage1");
        Path initrd = Fixtures.compress(cpio, "gzip -9n");

        assertThatThrownBy(() -> InitrdSplitter.split(initrd))
                .isInstanceOf(ImageException.class)
                .hasMessage(initrd + ": no nix-store.squashfs in any of its 1 archives (gzip cpio: "
                        + Fixtures.entryCount(cpio) + " entries)");
    }

    @Test
    void nonCpioInitrdNamesTheFileAndMagic() throws Exception {
        Path initrd = tmp.resolve("initrd");
        Files.writeString(initrd, "MZ this is a kernel, not an initrd");
        assertThatThrownBy(() -> InitrdSplitter.split(initrd))
                .isInstanceOf(ImageException.class)
                .hasMessage(initrd + ": not a cpio archive (magic 4d5a20746869)");
    }

    @Test
    void gzipOfSomethingElseIsNotCpio() throws Exception {
        Path text = tmp.resolve("text");
        Files.writeString(text, "just text\n");
        Path initrd = Fixtures.compress(text, "gzip -9n");
        assertThatThrownBy(() -> InitrdSplitter.split(initrd))
                .isInstanceOf(ImageException.class)
                .hasMessageStartingWith(initrd + " (gzip archive at offset 0): not a cpio archive (magic ");
    }

    @Test
    void garbageAfterTheArchivesIsReported() throws Exception {
        Path stage1 = Fixtures.compress(Fixtures.stage1Cpio(tmp, "stage1"), "gzip -9n");
        Path junk = tmp.resolve("junk");
        Files.writeString(junk, "garbage!");
        Path initrd = Fixtures.concat(tmp.resolve("initrd"), 0, stage1, junk);
        assertThatThrownBy(() -> InitrdSplitter.split(initrd))
                .isInstanceOf(ImageException.class)
                .hasMessage(initrd + ": unknown data at offset " + Files.size(stage1)
                        + " after 1 archive (magic 676172626167)");
    }

    @Test
    void truncatedCompressedArchiveIsReported() throws Exception {
        Path stage1 = Fixtures.compress(Fixtures.stage1Cpio(tmp, "stage1"), "zstd -q");
        byte[] bytes = Files.readAllBytes(stage1);
        Path initrd = tmp.resolve("initrd");
        Files.write(initrd, Arrays.copyOf(bytes, bytes.length - 10));
        assertThatThrownBy(() -> InitrdSplitter.split(initrd))
                .isInstanceOf(ImageException.class)
                .hasMessageStartingWith(initrd + ": ")
                .hasMessageContaining("truncated");
    }

    @Test
    void rootArchiveHoldingOtherFilesCannotBeSplit() throws Exception {
        Path stage1 = Fixtures.compress(Fixtures.stage1Cpio(tmp, "stage1"), "gzip -9n");
        Path squashfs = Fixtures.fakeSquashfs(tmp, 1000);
        Path mixed = tmp.resolve("mixed.cpio");
        try (OutputStream out = Files.newOutputStream(mixed); CpioWriter cpio = new CpioWriter(out)) {
            cpio.file("nix-store.squashfs", 0644, squashfs);
            cpio.file("etc/needed-by-stage1", 0644, new byte[] {1});
        }
        Path initrd = Fixtures.concat(tmp.resolve("initrd"), 0, stage1, Fixtures.compress(mixed, "zstd -q"));
        assertThatThrownBy(() -> InitrdSplitter.split(initrd))
                .isInstanceOf(ImageException.class)
                .hasMessageContaining(initrd + ": the zstd archive at offset " + Files.size(stage1))
                .hasMessageContaining("etc/needed-by-stage1");
    }

    @Test
    void hugeSegmentsAreNotReadIntoMemory() throws Exception {
        // 64 MiB squashfs stand-in through a 16 MiB-limited check: the walk streams it.
        Path squashfs = tmp.resolve("big.img");
        byte[] block = new byte[1 << 20];
        new Random(5).nextBytes(block);
        try (OutputStream out = Files.newOutputStream(squashfs)) {
            for (int i = 0; i < 64; i++) {
                out.write(block);
            }
        }
        Path root = Fixtures.compress(Fixtures.rootCpio(tmp, squashfs), "zstd -1 -q");
        Path stage1 = Fixtures.compress(Fixtures.stage1Cpio(tmp, "stage1"), "gzip -9n");
        Path initrd = Fixtures.concat(tmp.resolve("initrd"), 0, stage1, root);
        Runtime.getRuntime().gc();
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        long[] counted = {0};
        InitrdSplitter.split(initrd, (entry, body) -> {
            byte[] buffer = new byte[8192];
            int n;
            while ((n = body.read(buffer)) > 0) {
                counted[0] += n;
            }
        });
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertThat(counted[0]).isEqualTo(Files.size(squashfs));
        assertThat(after - before).as("heap growth").isLessThan(48L << 20);
    }

    @Test
    void archiveWithoutAKnownEndBeforeTheRootImageIsExplained() throws Exception {
        Path stage1 = Fixtures.compress(Fixtures.stage1Cpio(tmp, "stage1"), "bzip2");
        Path root = Fixtures.compress(Fixtures.rootCpio(tmp, Fixtures.fakeSquashfs(tmp, 1000)), "zstd -q");
        Path initrd = Fixtures.concat(tmp.resolve("initrd"), 0, stage1, root);
        assertThatThrownBy(() -> InitrdSplitter.split(initrd))
                .isInstanceOf(ImageException.class)
                .hasMessageStartingWith(initrd.toString())
                .hasMessageEndingWith("so a bzip2 archive must come last)");
    }
}
