package dev.pivot.boot;

/**
 * An immutable blob identified by its content: kernel, initrd part, root image, generated prelude.
 *
 * @param sha256 lower-case hex of the SHA-256 of the bytes
 * @param size   length in bytes
 * @param name   a file name for humans and for iPXE / EFI stub image names ("bzImage", "initrd")
 */
public record Artifact(String sha256, long size, String name) {

    public Artifact {
        if (!sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a sha256: " + sha256);
        }
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
    }
}
