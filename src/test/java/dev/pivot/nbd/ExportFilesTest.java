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

    /** Whether this process holds {@code fd} open on {@code file} (a closed number may be reused for another). */
    private static boolean openOn(int fd, Path file) throws IOException {
        Path link = Path.of("/proc/self/fd/" + fd);
        return Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS) && Files.readSymbolicLink(link).equals(file);
    }

    @Test
    void connectionsReadingOneFileShareItsDescriptorUntilTheLastCloses() throws IOException {
        Path image = file("image", 3 * 4096 + 5);
        ExportFiles files = new ExportFiles();
        ExportFiles.Open first = files.acquire(image, 3 * 4096 + 5);
        ExportFiles.Open second = files.acquire(image, 3 * 4096 + 5);
        assertThat(second).isSameAs(first);
        int fd = first.descriptor();
        assertThat(openOn(fd, image)).isTrue();

        first.close();
        assertThat(openOn(fd, image)).as("still open for the other reader").isTrue();
        second.close();
        assertThat(openOn(fd, image)).as("closed after the last close").isFalse();

        try (ExportFiles.Open again = files.acquire(image, 3 * 4096 + 5)) {
            assertThat(again).isNotSameAs(first);
            assertThat(openOn(again.descriptor(), image)).isTrue();
        }
    }

    @Test
    void theExportIsTheFilesFirstBytesAndAShorterFileIsRefusedByName() throws IOException {
        ExportFiles files = new ExportFiles();
        Path image = file("image", 10_000);
        try (ExportFiles.Open open = files.acquire(image, 4096)) {
            assertThat(openOn(open.descriptor(), image)).isTrue();
        }
        Path other = file("other", 4096);
        assertThatThrownBy(() -> files.acquire(other, 4097)).isInstanceOf(IOException.class)
                .hasMessageContaining(other.toString()).hasMessageContaining("4096 bytes, fewer than its export (4097)");
        assertThatThrownBy(() -> files.acquire(dir.resolve("missing"), 1)).isInstanceOf(IOException.class)
                .hasMessageContaining("missing");
    }
}
