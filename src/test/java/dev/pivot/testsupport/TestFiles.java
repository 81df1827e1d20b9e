package dev.pivot.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** What tests do to files they compare or damage on purpose. */
public final class TestFiles {

    private TestFiles() {
    }

    /** The file's sha256, lower-case hex, read in 64 KiB pieces (copies of 100 MiB are compared too). */
    /** Points the link {@code result} at {@code target} in one rename, as `nix build` replaces ./result. */
    public static void relink(Path result, Path target) throws IOException {
        Path tmp = result.resolveSibling(".result.tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, target);
        Files.move(tmp, result, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    /** Flips one bit of the byte in the middle of the file, as a bad disk would. */
    public static void flipMiddleByte(Path file) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            long at = f.length() / 2;
            f.seek(at);
            int b = f.read();
            f.seek(at);
            f.write(b ^ 0x01);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot corrupt " + file, e);
        }
    }
}
