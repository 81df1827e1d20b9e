package dev.pivot.image;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.pivot.format.cpio.CpioEntry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzz target for the initrd splitter, which walks every initrd an operator imports: plain cpio, gzip
 * members, xz streams, zstd frames and lz4 (legacy and frame) one after another, with NUL padding between them.
 * The corpus ({@code InitrdSplitterFuzzTestInputs/}) holds small initrds the real tools framed each way (made with
 * GNU cpio, gzip, xz, zstd and lz4). {@code ./test} fuzzes it for its {@code maxDuration} (profile pivot.fuzz).
 *
 * <p>The properties: any bytes give segments or an {@link ImageException} (never another exception), and the
 * segments lie inside the file, in order, without overlapping.
 */
class InitrdSplitterFuzzTest {
    private static final Path FILE = scratch();

    @FuzzTest(maxDuration = "20s")
    void anyBytesSplitIntoOrderedSegmentsOrFailAsAnImageError(byte[] data) throws IOException {
        Files.write(FILE, data);
        List<InitrdSegment> segments;
        try {
            segments = InitrdSplitter.segments(FILE);
        } catch (ImageException expected) {
            return;
        }
        long previousEnd = 0;
        for (InitrdSegment s : segments) {
            assertThat(s.start()).as("start of %s", s.describe()).isBetween(previousEnd, (long) data.length);
            assertThat(s.end()).as("end of %s", s.describe()).isBetween(s.start(), (long) data.length);
            for (CpioEntry e : s.entries()) {
                assertThat(e.size()).isNotNegative();
            }
            previousEnd = s.end();
        }
    }

    private static Path scratch() {
        try {
            Path file = Files.createTempFile("initrd-fuzz-", ".img");
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
