package dev.pivot.format;

import org.apache.commons.compress.compressors.lz4.BlockLZ4CompressorInputStream;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * lz4's legacy format ("lz4 -l"), the one the kernel unpacks: a 4-byte magic, then blocks each prefixed by its
 * little-endian compressed size (at most 8 MiB uncompressed each). A repeated magic starts a new stream.
 */
final class LegacyLz4InputStream extends BulkInputStream {

    private static final long MAGIC = 0x184C2102L;
    private static final int MAX_BLOCK = 8 << 20;

    private final InputStream in;
    private InputStream block = InputStream.nullInputStream();
    private boolean eof;

    LegacyLz4InputStream(InputStream in) throws IOException {
        this.in = in;
        if (readLe32() != MAGIC) {
            throw new IOException("not an lz4 legacy stream");
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        while (true) {
            int n = block.read(b, off, len);
            if (n >= 0 || eof) {
                return n;
            }
            long size = readLe32();
            while (size == MAGIC) {
                size = readLe32();
            }
            if (size <= 0) { // end of input, or NUL padding after the stream
                eof = true;
                return -1;
            }
            if (size > MAX_BLOCK + MAX_BLOCK / 255 + 16) {
                throw new IOException("lz4 legacy block of " + size + " bytes is too big");
            }
            byte[] compressed = in.readNBytes((int) size);
            if (compressed.length < size) {
                throw new EOFException("lz4 legacy stream truncated");
            }
            block = new BlockLZ4CompressorInputStream(new ByteArrayInputStream(compressed));
        }
    }

    /** -1 at a clean end of input. */
    private long readLe32() throws IOException {
        byte[] bytes = in.readNBytes(4);
        if (bytes.length == 0) {
            return -1;
        }
        if (bytes.length < 4) {
            throw new EOFException("lz4 legacy stream truncated");
        }
        return (bytes[0] & 0xffL) | (bytes[1] & 0xffL) << 8 | (bytes[2] & 0xffL) << 16 | (bytes[3] & 0xffL) << 24;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
