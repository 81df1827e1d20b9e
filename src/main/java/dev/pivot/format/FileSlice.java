package dev.pivot.format;


import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;

/**
 * Bytes [start, end) of a file, read with positional reads: unbuffered, so {@link #position()} says exactly how
 * much a decoder consumed, and several slices of one channel can be read independently.
 */
public final class FileSlice extends BulkInputStream {

    private final FileChannel channel;
    private final long end;
    private long position;

    public FileSlice(FileChannel channel, long start, long end) {
        this.channel = channel;
        this.position = start;
        this.end = end;
    }

    /** The absolute file offset of the next byte to read. */
    public long position() {
        return position;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        long left = end - position;
        if (left <= 0) {
            return -1;
        }
        int n = channel.read(ByteBuffer.wrap(b, off, (int) Math.min(len, left)), position);
        if (n <= 0) {
            return -1;
        }
        position += n;
        return n;
    }

    @Override
    public long skip(long n) {
        long skipped = Math.max(0, Math.min(n, end - position));
        position += skipped;
        return skipped;
    }

    /** Reads up to {@code length} bytes at an absolute offset (fewer at the end of the file). */
    public static byte[] readAt(FileChannel channel, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, offset + buffer.position());
            if (n <= 0) {
                break;
            }
        }
        byte[] bytes = new byte[buffer.position()];
        buffer.flip().get(bytes);
        return bytes;
    }
}
