package dev.pivot.format.squashfs;

import dev.pivot.format.BulkInputStream;

import java.io.IOException;

/**
 * A regular file's bytes: its data blocks one after the other (each compressed or stored, or sparse: size 0
 * means a block of zeros), then the tail end from a fragment block when the file has one. The block sizes are
 * read from the inode table as the stream goes, so nothing is allocated from sizes read off the disk.
 */
final class FileDataStream extends BulkInputStream {

    private final SquashfsImage image;
    private final Inode.RegularFile file;
    private final int blockSize;
    private final long blockCount;
    private final MetadataCursor blockList;
    private long nextBlock;
    private long nextPosition;
    private byte[] buffer = new byte[0];
    private int bufferStart;
    private int bufferEnd;
    private long remaining;
    private boolean tailRead;

    FileDataStream(SquashfsImage image, Inode.RegularFile file) {
        this.image = image;
        this.file = file;
        this.blockSize = image.superblock().blockSize();
        this.blockCount = file.hasFragment() ? file.size() / blockSize : ceilDiv(file.size(), blockSize);
        this.blockList = image.blockList(file);
        this.nextPosition = file.blocksStart();
        this.remaining = file.size();
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (bufferStart == bufferEnd && !fill()) {
            return -1;
        }
        int n = Math.min(len, bufferEnd - bufferStart);
        System.arraycopy(buffer, bufferStart, b, off, n);
        bufferStart += n;
        return n;
    }

    @Override
    public int available() {
        return bufferEnd - bufferStart;
    }

    /** Loads the next block or the tail; false at the end of the file. */
    private boolean fill() throws IOException {
        if (remaining == 0) {
            return false;
        }
        try {
            if (nextBlock < blockCount) {
                readBlock();
            } else if (file.hasFragment() && !tailRead) {
                readTail();
            } else {
                throw image.corrupt("file inode " + file.attributes().number() + " ends after " + (file.size()
                        - remaining) + " of its " + file.size() + " bytes");
            }
        } catch (RuntimeException e) {
            throw image.corrupt("file inode " + file.attributes().number() + ": " + e);
        }
        remaining -= bufferEnd - bufferStart;
        return true;
    }

    private void readBlock() throws IOException {
        int expected = (int) Math.min(blockSize, remaining);
        int word = (int) blockList.u32();
        String what = "data block " + nextBlock + " of file inode " + file.attributes().number();
        nextBlock++;
        if (buffer.length < blockSize) {
            buffer = new byte[blockSize];
        }
        bufferStart = 0;
        bufferEnd = expected;
        if ((word & 0xffffff) == 0) {
            // Sparse: a block of zeros that takes no space on disk.
            java.util.Arrays.fill(buffer, 0, expected, (byte) 0);
            return;
        }
        int n = image.dataBlock(nextPosition, word, buffer, what);
        nextPosition += word & 0xffffff;
        if (n != expected) {
            throw image.corrupt(what + " holds " + n + " bytes, expected " + expected);
        }
    }

    private void readTail() throws IOException {
        tailRead = true;
        byte[] fragment = image.fragmentBlock(file.fragment());
        if (file.fragmentOffset() + remaining > fragment.length) {
            throw image.corrupt("file inode " + file.attributes().number() + ": its " + remaining
                    + "-byte tail at offset " + file.fragmentOffset() + " runs past fragment block "
                    + file.fragment() + " (" + fragment.length + " bytes)");
        }
        buffer = fragment;
        bufferStart = file.fragmentOffset();
        bufferEnd = (int) (bufferStart + remaining);
    }
}
