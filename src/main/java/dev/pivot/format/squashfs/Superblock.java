package dev.pivot.format.squashfs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 96-byte squashfs 4.0 superblock at offset 0 (all fields little-endian). Table starts are absolute file
 * offsets; {@link #ABSENT} marks a table the image does not have.
 *
 * @param compressionId 1 gzip (zlib), 2 lzma, 3 lzo, 4 xz, 5 lz4, 6 zstd
 * @param rootInode     inode reference of the root directory (metadata block offset &lt;&lt; 16 | offset in it)
 * @param bytesUsed     the image's length; mksquashfs pads the file after it (to 4 KiB by default)
 */
public record Superblock(long inodeCount, long modificationTime, int blockSize, long fragmentCount,
                         int compressionId, int blockLog, int flags, int idCount, int versionMajor,
                         int versionMinor, long rootInode, long bytesUsed, long idTableStart,
                         long xattrTableStart, long inodeTableStart, long directoryTableStart,
                         long fragmentTableStart, long exportTableStart) {

    public static final int SIZE = 96;
    /** "hsqs" read as a little-endian u32. */
    public static final int MAGIC = 0x73717368;
    public static final long ABSENT = -1L;

    public static final int UNCOMPRESSED_INODES = 0x0001;
    public static final int UNCOMPRESSED_DATA = 0x0002;
    public static final int UNCOMPRESSED_FRAGMENTS = 0x0008;
    public static final int NO_FRAGMENTS = 0x0010;
    public static final int ALWAYS_FRAGMENTS = 0x0020;
    public static final int DUPLICATES = 0x0040;
    public static final int EXPORTABLE = 0x0080;
    public static final int COMPRESSOR_OPTIONS = 0x0400;

    /** Decodes the fields; checks nothing (see {@link SquashfsImage#open}). {@code bytes} holds at least 96. */
    static Superblock decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, SIZE).order(ByteOrder.LITTLE_ENDIAN);
        b.getInt(); // magic, checked by the caller
        return new Superblock(
                Integer.toUnsignedLong(b.getInt()), Integer.toUnsignedLong(b.getInt()), b.getInt(),
                Integer.toUnsignedLong(b.getInt()), Short.toUnsignedInt(b.getShort()),
                Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()),
                Short.toUnsignedInt(b.getShort()), Short.toUnsignedInt(b.getShort()),
                Short.toUnsignedInt(b.getShort()), b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getLong(),
                b.getLong(), b.getLong(), b.getLong());
    }

    public boolean hasFlag(int flag) {
        return (flags & flag) != 0;
    }

    /** "gzip", "xz", … for messages. */
    public String compressionName() {
        return Compressor.name(compressionId);
    }
}
