package dev.pivot.format;

import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class CompressionTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({
            "gzip -9n, GZIP",
            "xz --check=crc32, XZ",
            "zstd -19 -q, ZSTD",
            "lzma, LZMA",
            "bzip2, BZIP2",
            "lz4 -l -q, LZ4_LEGACY",
            "lz4 -q, LZ4_FRAME",
            "cpio -o -H newc --quiet, NONE",
    })
    void detectsAndDecompressesWhatTheRealToolMade(String command, Compression expected) throws Exception {
        Tools.require(command.split(" ")[0]);
        byte[] data = new byte[150_000];
        new Random(1).nextBytes(data);
        for (int i = 0; i < data.length; i += 3) {
            data[i] = 'x'; // compressible
        }
        Path plain = tmp.resolve("data");
        Files.write(plain, data);
        Path packed = expected == Compression.NONE
                ? Path.of(Tools.sh(tmp, "echo data | cpio -o -H newc --quiet > data.cpio && echo " + tmp + "/data.cpio")
                .strip())
                : compress(plain, command);

        byte[] head;
        try (InputStream in = Files.newInputStream(packed)) {
            head = in.readNBytes(Compression.MAGIC_LENGTH);
        }
        assertThat(Compression.detect(head)).contains(expected);
        if (expected != Compression.NONE) {
            try (InputStream in = expected.open(Files.newInputStream(packed))) {
                assertThat(in.readAllBytes()).isEqualTo(data);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"68656c6c6f21", "000000000000", "7f454c460201"})
    void unknownMagicIsNotDetected(String hex) {
        assertThat(Compression.detect(java.util.HexFormat.of().parseHex(hex))).isEmpty();
    }

    /** Runs {@code command} (a compressor reading stdin) over {@code file}; returns the output file. */
    private static Path compress(Path file, String command) throws Exception {
        Tools.require(command.split(" ")[0]);
        Path out = file.resolveSibling(file.getFileName() + "." + command.replaceAll("[^a-z0-9]", "_"));
        Tools.sh(file.getParent(), command + " < " + file + " > " + out);
        return out;
    }
}
