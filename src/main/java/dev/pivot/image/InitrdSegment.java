package dev.pivot.image;

import dev.pivot.format.Compression;
import dev.pivot.format.cpio.CpioEntry;

import java.util.List;

/**
 * One unit the kernel unpacks from an initrd: an uncompressed cpio archive, or one gzip member / xz stream /
 * zstd frame holding one or more cpio archives.
 *
 * @param start       offset of its first byte in the initrd file
 * @param end         offset just after its last byte (NUL padding after it is not included)
 * @param compression how it is compressed ({@link Compression#NONE} for a plain cpio)
 * @param entries     the cpio entries in it, trailers excluded
 */
public record InitrdSegment(long start, long end, Compression compression, List<CpioEntry> entries) {

    public InitrdSegment {
        entries = List.copyOf(entries);
    }

    /** "gzip cpio: 14 entries", for messages. */
    public String describe() {
        return (compression.compressed() ? compression.label() + " cpio" : "cpio") + ": " + entries.size()
                + (entries.size() == 1 ? " entry" : " entries");
    }
}
