package dev.pivot.format;

import java.io.IOException;
import java.io.InputStream;

/**
 * An InputStream whose subclasses only read in bulk: {@link #read(byte[], int, int)} is the one real read, and
 * the single-byte {@link #read()} goes through it, so both always agree on position and end of stream.
 */
public abstract class BulkInputStream extends InputStream {

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public abstract int read(byte[] b, int off, int len) throws IOException;
}
