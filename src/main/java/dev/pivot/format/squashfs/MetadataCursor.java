package dev.pivot.format.squashfs;

import java.io.IOException;

/**
 * Reads a table (inodes, directories, fragment entries, ids) made of consecutive metadata blocks as one byte
 * sequence, crossing block boundaries where needed. Never reads past {@code tableEnd}.
 */
final class MetadataCursor {

    private final SquashfsImage image;
    private final String table;
    private final long tableStart;
    private final long tableEnd;
    private long block;
    private int offset;
    private SquashfsImage.MetadataBlock current;

    /**
     * @param block  absolute offset of the metadata block to start in
     * @param offset offset in that block once decompressed
     */
    MetadataCursor(SquashfsImage image, String table, long tableStart, long tableEnd, long block, int offset) {
        this.image = image;
        this.table = table;
        this.tableStart = tableStart;
        this.tableEnd = tableEnd;
        this.block = block;
        this.offset = offset;
    }

    /** The cursor's position as a metadata reference relative to the table start. */
    long reference() throws IOException {
        load();
        if (offset == current.length()) {
            return (current.next() - tableStart) << 16;
        }
        return (block - tableStart) << 16 | offset;
    }

    void readFully(byte[] dst, int off, int len) throws IOException {
        while (len > 0) {
            load();
            if (offset == current.length()) {
                block = current.next();
                offset = 0;
                current = null;
                continue;
            }
            int n = Math.min(len, current.length() - offset);
            System.arraycopy(current.data(), offset, dst, off, n);
            offset += n;
            off += n;
            len -= n;
        }
    }

    byte[] bytes(int len) throws IOException {
        byte[] b = new byte[len];
        readFully(b, 0, len);
        return b;
    }

    void skip(long len) throws IOException {
        while (len > 0) {
            load();
            if (offset == current.length()) {
                block = current.next();
                offset = 0;
                current = null;
                continue;
            }
            int n = (int) Math.min(len, current.length() - offset);
            offset += n;
            len -= n;
        }
    }

    int u16() throws IOException {
        byte[] b = bytes(2);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8;
    }

    /** A little-endian u32 as a non-negative long. */
    long u32() throws IOException {
        byte[] b = bytes(4);
        return (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
    }

    long u64() throws IOException {
        return u32() | u32() << 32;
    }

    private void load() throws IOException {
        if (current == null) {
            if (block >= tableEnd) {
                throw image.corrupt(table + " runs past its end at offset " + tableEnd);
            }
            current = image.metadataBlock(block, tableEnd, table);
            if (offset > current.length()) {
                throw image.corrupt(table + ": offset " + offset + " is past the end of the metadata block at "
                        + block + " (" + current.length() + " bytes)");
            }
        }
    }
}
