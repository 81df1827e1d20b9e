package dev.pivot.nbd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One descriptor per file while anybody reads it, closed by the last close; a short file is refused by name. */
class ExportFilesTest {

    @TempDir
    Path dir;

    private Path file(String name, int size) throws IOException {
        return Files.write(dir.resolve(name), new byte[size]);
    }

    private static boolean descriptorOpen(int fd) {
        return Files.exists(Path.of("/proc/self/fd/" + fd));
    }

    @Test
    void connectionsReadingOneFileShareItsDescriptorUntilTheLastCloses() throws IOException {
        Path image = file("image", 3 * 4096 + 5);
        ExportFiles files = new ExportFiles();
        ExportFiles.Open first = files.acquire(image, 3 * 4096 + 5);
        ExportFiles.Open second = files.acquire(image, 3 * 4096 + 5);
        assertThat(second).isSameAs(first);
        int fd = first.descriptor();
        assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd))).isEqualTo(image);

        first.close();
        assertThat(second.closed()).as("still open for the other reader").isFalse();
        assertThat(descriptorOpen(fd)).isTrue();
        second.close();
        assertThat(second.closed()).as("closed after the last close").isTrue();

        try (ExportFiles.Open again = files.acquire(image, 3 * 4096 + 5)) {
            assertThat(again).isNotSameAs(first);
            assertThat(again.closed()).isFalse();
            assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd/" + again.descriptor()))).isEqualTo(image);
        }
    }

    @Test
    void theExportIsTheFilesFirstBytesAndAShorterFileIsRefusedByName() throws IOException {
        ExportFiles files = new ExportFiles();
        try (ExportFiles.Open open = files.acquire(file("image", 10_000), 4096)) {
            assertThat(open.closed()).isFalse();
        }
        Path other = file("other", 4096);
        assertThatThrownBy(() -> files.acquire(other, 4097)).isInstanceOf(IOException.class)
                .hasMessageContaining(other.toString()).hasMessageContaining("4096 bytes, fewer than its export (4097)");
        assertThatThrownBy(() -> files.acquire(dir.resolve("missing"), 1)).isInstanceOf(IOException.class)
                .hasMessageContaining("missing");
    }
}
