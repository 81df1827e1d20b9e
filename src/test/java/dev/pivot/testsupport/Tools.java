package dev.pivot.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Runs the real tools (cpio, gzip, xz, zstd…) that make and check the test fixtures. */
public final class Tools {

    private Tools() {
    }

    /** Fails the test (naming the Debian package) unless the tool is installed. */
    public static void require(String tool, String debianPackage) {
        Require.command(tool, debianPackage);
    }

    /** As above, for a tool whose package {@link Require#packageOf} knows. */
    public static void require(String tool) {
        Require.command(tool);
    }

    /** Runs {@code sh -c script} in {@code dir}; fails with its stderr unless it exits 0. Returns stdout. */
    public static String sh(Path dir, String script) throws IOException, InterruptedException {
        Path out = Files.createTempFile("tool-", ".out");
        Path err = Files.createTempFile("tool-", ".err");
        try {
            Process process = new ProcessBuilder("sh", "-c", script).directory(dir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("timed out: " + script);
            }
            if (process.exitValue() != 0) {
                throw new IOException("`" + script + "` exited " + process.exitValue() + ": "
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return Files.readString(out, StandardCharsets.ISO_8859_1);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
