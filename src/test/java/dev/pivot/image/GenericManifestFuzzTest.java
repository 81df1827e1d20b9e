package dev.pivot.image;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzz target for a generic image's pivot.yaml ({@code key: value} lines), read from a file as `pivot serve`
 * reads it. The corpus ({@code GenericManifestFuzzTestInputs/}) holds valid and broken manifests. {@code ./test}
 * fuzzes it for its {@code maxDuration} (profile pivot.fuzz).
 *
 * <p>The properties: any bytes give a manifest of known keys or one {@link ImageException} naming the file.
 */
class GenericManifestFuzzTest {
    private static final Path FILE = scratch();
    private static final Set<String> KEYS = Set.of("kernel", "initrd", "squashfs", "init", "cmdline");

    @FuzzTest(maxDuration = "20s")
    void anyBytesGiveKnownKeysOrOneError(byte[] data) throws IOException {
        Files.write(FILE, data);
        try {
            assertThat(GenericImport.manifest(FILE).keySet()).isSubsetOf(KEYS);
        } catch (ImageException e) {
            assertThat(e.getMessage()).startsWith(FILE.toString()).doesNotContain("\n");
        }
    }

    private static Path scratch() {
        try {
            Path file = Files.createTempFile("pivot-yaml-fuzz-", ".yaml");
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
