package dev.pivot.nbd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One mapping per file while anybody reads it, unmapped by the last close; a short file is refused by name. */
class ExportMapsTest {

    @TempDir
    Path dir;

    private Path file(String name, int size) throws IOException {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (i * 7 + 3);
        }
        return Files.write(dir.resolve(name), bytes);
    }

    @Test
    void connectionsReadingOneFileShareItsMappingUntilTheLastCloses() throws IOException {
        Path image = file("image", 3 * 4096 + 5);
        ExportMaps maps = new ExportMaps();
        ExportMaps.Mapping first = maps.acquire(image, 3 * 4096 + 5);
        ExportMaps.Mapping second = maps.acquire(image, 3 * 4096 + 5);
        assertThat(second).isSameAs(first);
        assertThat(first.bytes().byteSize()).isEqualTo(3 * 4096 + 5);
        assertThat(first.bytes().get(ValueLayout.JAVA_BYTE, 8195)).isEqualTo((byte) (8195 * 7 + 3));

        first.close();
        assertThat(second.bytes().scope().isAlive()).as("still mapped for the other reader").isTrue();
        second.close();
        assertThat(second.bytes().scope().isAlive()).as("unmapped after the last close").isFalse();

        try (ExportMaps.Mapping again = maps.acquire(image, 3 * 4096 + 5)) {
            assertThat(again).isNotSameAs(first);
            assertThat(again.bytes().get(ValueLayout.JAVA_BYTE, 0)).isEqualTo((byte) 3);
        }
    }

    @Test
    void theExportIsTheFilesFirstBytesAndAShorterFileIsRefusedByName() throws IOException {
        Path image = file("image", 10_000);
        ExportMaps maps = new ExportMaps();
        try (ExportMaps.Mapping m = maps.acquire(image, 4096)) {
            assertThat(m.bytes().byteSize()).isEqualTo(4096);
        }
        Path other = file("other", 4096);
        assertThatThrownBy(() -> maps.acquire(other, 4097)).isInstanceOf(IOException.class)
                .hasMessageContaining(other.toString()).hasMessageContaining("4096 bytes, fewer than its export (4097)");
        try (ExportMaps.Mapping m = maps.acquire(other, 4096)) {
            assertThat(m.bytes().get(ValueLayout.JAVA_BYTE, 4095)).isEqualTo((byte) (4095 * 7 + 3));
        }
    }
}
