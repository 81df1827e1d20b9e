package dev.pivot.image;

import dev.pivot.format.FileSlice;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The version string an x86 bzImage carries in its setup header (Documentation/arch/x86/boot.rst): "HdrS" at
 * 0x202, and at 0x20E a pointer to a NUL-terminated string at 0x200 + pointer, like
 * "6.1.0-56-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.147-1 (2025-08-02)".
 * The first word is the release, the name of the kernel's lib/modules directory.
 *
 * @param full    the whole string
 * @param release its first word ("6.1.0-56-amd64")
 */
public record KernelVersion(String full, String release) {

    private static final int HEADER_MAGIC_OFFSET = 0x202;
    private static final int VERSION_POINTER_OFFSET = 0x20E;
    private static final int MAX_LENGTH = 512;

    /** Reads the version from a bzImage; empty when the file has no setup header or no version string. */
    public static Optional<KernelVersion> read(Path kernel) throws IOException {
        try (FileChannel channel = FileChannel.open(kernel, StandardOpenOption.READ)) {
            byte[] header = FileSlice.readAt(channel, 0, 0x210);
            if (header.length < 0x210 || header[HEADER_MAGIC_OFFSET] != 'H' || header[HEADER_MAGIC_OFFSET + 1] != 'd'
                    || header[HEADER_MAGIC_OFFSET + 2] != 'r' || header[HEADER_MAGIC_OFFSET + 3] != 'S') {
                return Optional.empty();
            }
            int pointer = (header[VERSION_POINTER_OFFSET] & 0xff) | (header[VERSION_POINTER_OFFSET + 1] & 0xff) << 8;
            if (pointer == 0) {
                return Optional.empty();
            }
            byte[] text = FileSlice.readAt(channel, 0x200L + pointer, MAX_LENGTH);
            int end = 0;
            while (end < text.length && text[end] != 0) {
                end++;
            }
            String full = new String(text, 0, end, StandardCharsets.US_ASCII).strip();
            String release = full.split("\\s+", 2)[0];
            if (release.isEmpty() || !release.matches("[0-9][0-9A-Za-z._+~-]*")) {
                return Optional.empty();
            }
            return Optional.of(new KernelVersion(full, release));
        }
    }
}
