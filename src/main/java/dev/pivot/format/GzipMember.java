package dev.pivot.format;


import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * One gzip member at a file offset, decompressed with a raw {@link Inflater} so that its exact end (the offset
 * just after its 8-byte trailer) is known: GZIPInputStream reads ahead and cannot tell.
 */
public final class GzipMember extends BulkInputStream {

    private static final int FHCRC = 2;
    private static final int FEXTRA = 4;
    private static final int FNAME = 8;
    private static final int FCOMMENT = 16;

    private final FileChannel channel;
    private final String source;
    private final long start;
    private final Inflater inflater = new Inflater(true);
    private final CRC32 crc = new CRC32();
    private final byte[] input = new byte[64 * 1024];
    private long inputEnd;
    private long uncompressed;
    private long end = -1;

    public GzipMember(FileChannel channel, long start, String source) throws IOException {
        this.channel = channel;
        this.start = start;
        this.source = source;
        this.inputEnd = start + headerLength();
    }

    /** The offset just after this member; known once the stream has been read to its end. */
    public long end() {
        if (end < 0) {
            throw new IllegalStateException("gzip member not read to its end yet");
        }
        return end;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (end >= 0) {
            return -1;
        }
        try {
            while (true) {
                int n = inflater.inflate(b, off, len);
                if (n > 0) {
                    crc.update(b, off, n);
                    uncompressed += n;
                    return n;
                }
                if (inflater.finished()) {
                    finishMember();
                    return -1;
                }
                if (inflater.needsDictionary()) {
                    throw new IOException(what() + " needs a preset dictionary");
                }
                if (inflater.needsInput()) {
                    int got = channel.read(ByteBuffer.wrap(input), inputEnd);
                    if (got <= 0) {
                        throw new IOException(what() + " is truncated");
                    }
                    inputEnd += got;
                    inflater.setInput(input, 0, got);
                }
            }
        } catch (DataFormatException e) {
            throw new IOException(what() + " is corrupt: " + e.getMessage());
        }
    }

    private void finishMember() throws IOException {
        long compressedEnd = inputEnd - inflater.getRemaining();
        byte[] trailer = FileSlice.readAt(channel, compressedEnd, 8);
        if (trailer.length < 8) {
            throw new IOException(what() + " is truncated (no trailer)");
        }
        long storedCrc = le32(trailer, 0);
        long storedSize = le32(trailer, 4);
        if (storedCrc != crc.getValue() || storedSize != (uncompressed & 0xFFFF_FFFFL)) {
            throw new IOException(what() + " fails its CRC or size check");
        }
        end = compressedEnd + 8;
        inflater.end();
    }

    private int headerLength() throws IOException {
        byte[] fixed = FileSlice.readAt(channel, start, 10);
        if (fixed.length < 10 || (fixed[0] & 0xff) != 0x1f || (fixed[1] & 0xff) != 0x8b || fixed[2] != 8) {
            throw new IOException(what() + " has a bad header");
        }
        int flags = fixed[3] & 0xff;
        long at = start + 10;
        if ((flags & FEXTRA) != 0) {
            byte[] xlen = FileSlice.readAt(channel, at, 2);
            if (xlen.length < 2) {
                throw new IOException(what() + " is truncated in its header");
            }
            at += 2 + ((xlen[0] & 0xff) | (xlen[1] & 0xff) << 8);
        }
        if ((flags & FNAME) != 0) {
            at = afterZero(at);
        }
        if ((flags & FCOMMENT) != 0) {
            at = afterZero(at);
        }
        if ((flags & FHCRC) != 0) {
            at += 2;
        }
        return (int) (at - start);
    }

    private long afterZero(long at) throws IOException {
        while (true) {
            byte[] chunk = FileSlice.readAt(channel, at, 256);
            if (chunk.length == 0) {
                throw new IOException(what() + " is truncated in its header");
            }
            for (int i = 0; i < chunk.length; i++) {
                if (chunk[i] == 0) {
                    return at + i + 1;
                }
            }
            at += chunk.length;
        }
    }

    private String what() {
        return source + ": gzip archive at offset " + start;
    }

    private static long le32(byte[] b, int i) {
        return (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24;
    }

    @Override
    public void close() {
        inflater.end();
    }
}
