package dev.pivot.format.cpio;

import dev.pivot.format.BulkInputStream;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Streams a newc cpio archive: headers one by one, each body as a bounded stream. Nothing is held in memory but
 * one header, so a multi-GB squashfs inside the archive costs no RAM.
 *
 * <p>Two modes. {@link #CpioReader} stops at the first TRAILER!!! and leaves the input just after it (used on an
 * uncompressed archive inside a bigger file, where {@link #position()} then tells where the archive ends).
 * {@link #allArchives} reads a whole decompressed stream the way the kernel does: after a trailer, NUL padding
 * and further archives may follow, up to the end of the stream.
 */
public final class CpioReader implements AutoCloseable {

    private static final int HEADER_LENGTH = 110;
    private static final String TRAILER = "TRAILER!!!";

    private final InputStream in;
    private final String source;
    private final boolean allArchives;
    private long position;
    private long bodyRemaining;
    private int bodyPadding;
    private int archives;
    private int entries;
    private boolean afterTrailer;
    /** The first byte of the next archive, read while skipping NUL padding. */
    private int pushedBack = -1;
    private boolean done;

    /** Reads one archive, up to and including its trailer. */
    public CpioReader(InputStream in, String source) {
        this(in, source, false);
    }

    private CpioReader(InputStream in, String source, boolean allArchives) {
        this.in = in;
        this.source = source;
        this.allArchives = allArchives;
    }

    /** Reads every archive of a (decompressed) stream, with NUL padding between them, to its end. */
    public static CpioReader allArchives(InputStream in, String source) {
        return new CpioReader(in, source, true);
    }

    /** The next entry, or null after the (last) trailer. The previous entry's unread body is skipped. */
    public CpioEntry next() throws IOException {
        if (done) {
            return null;
        }
        skipBody();
        if (afterTrailer) {
            afterTrailer = false;
            // Just after a trailer: NULs, then either the end of the stream or another archive.
            if (!skipPaddingBeforeArchive()) {
                done = true;
                return null;
            }
        }
        long headerAt = position;
        byte[] header = readHeaderBytes(headerAt);
        String magic = new String(header, 0, 6, StandardCharsets.US_ASCII);
        if (!magic.equals("070701") && !magic.equals("070702")) {
            throw badMagic(header, HEADER_LENGTH, headerAt);
        }
        long ino = field(header, 0, headerAt);
        int mode = (int) field(header, 1, headerAt);
        long nlink = field(header, 4, headerAt);
        long mtime = field(header, 5, headerAt);
        long size = field(header, 6, headerAt);
        int rdevMajor = (int) field(header, 9, headerAt);
        int rdevMinor = (int) field(header, 10, headerAt);
        long nameSize = field(header, 11, headerAt);
        if (nameSize < 1 || nameSize > 65536) {
            throw new CpioFormatException(source + ": bad cpio name size " + nameSize + " at offset " + headerAt);
        }
        byte[] nameBytes = readFully((int) nameSize, "name of the entry at offset " + headerAt);
        skipFully(padding(HEADER_LENGTH + nameSize), "padding after a name");
        String name = new String(nameBytes, 0, (int) nameSize - 1, StandardCharsets.UTF_8);
        if (name.equals(TRAILER)) {
            archives++;
            entries = 0;
            afterTrailer = true;
            skipFully(size + padding(size), "trailer body");
            if (!allArchives) {
                done = true;
                return null;
            }
            return next();
        }
        entries++;
        bodyRemaining = size;
        bodyPadding = (int) padding(size);
        return new CpioEntry(name, mode, size, ino, nlink, mtime, rdevMajor, rdevMinor);
    }

    /** The current entry's body; reading stops at its end. Valid until the next call to {@link #next()}. */
    public InputStream body() {
        return new BulkInputStream() {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (bodyRemaining == 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, bodyRemaining));
                if (n < 0) {
                    throw new CpioFormatException(source + ": cpio archive truncated inside an entry's body");
                }
                bodyRemaining -= n;
                position += n;
                return n;
            }
        };
    }

    /** Bytes of the input consumed so far. */
    public long position() {
        return position;
    }

    /** Archives (trailers) read so far. */
    public int archives() {
        return archives;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    private boolean skipPaddingBeforeArchive() throws IOException {
        while (true) {
            int b = in.read();
            if (b < 0) {
                return false;
            }
            position++;
            if (b != 0) {
                if (((position - 1) & 3) != 0) {
                    throw new CpioFormatException(source + ": data after a cpio trailer at offset " + (position - 1)
                            + " is not at a 4-byte boundary (broken padding)");
                }
                pushedBack = b;
                position--;
                return true;
            }
        }
    }


    private byte[] readHeaderBytes(long headerAt) throws IOException {
        byte[] header = new byte[HEADER_LENGTH];
        int have = 0;
        if (pushedBack >= 0) {
            header[have++] = (byte) pushedBack;
            pushedBack = -1;
            position++;
        }
        while (have < HEADER_LENGTH) {
            int n = in.read(header, have, HEADER_LENGTH - have);
            if (n < 0) {
                break;
            }
            have += n;
            position += n;
        }
        if (have < HEADER_LENGTH) {
            if (have == 0 && headerAt == 0) {
                throw new CpioFormatException(source + ": not a cpio archive (empty)");
            }
            if (have >= 6 && !new String(header, 0, 6, StandardCharsets.US_ASCII).startsWith("07070")) {
                throw badMagic(header, have, headerAt);
            }
            throw new CpioFormatException(source + ": cpio archive truncated"
                    + (archives == 0 && entries == 0 ? "" : " (no TRAILER!!!)") + " at offset " + headerAt);
        }
        return header;
    }

    private CpioFormatException badMagic(byte[] header, int have, long at) {
        String hex = HexFormat.of().formatHex(header, 0, Math.min(6, have));
        if (at == 0) {
            return new CpioFormatException(source + ": not a cpio archive (magic " + hex + ")");
        }
        return new CpioFormatException(source + ": bad cpio header at offset " + at + " (magic " + hex + ")");
    }

    private long field(byte[] header, int index, long headerAt) throws CpioFormatException {
        int start = 6 + index * 8;
        long value = 0;
        for (int i = start; i < start + 8; i++) {
            int digit = Character.digit(header[i], 16);
            if (digit < 0) {
                throw new CpioFormatException(source + ": bad hex digit in the cpio header at offset " + headerAt);
            }
            value = value << 4 | digit;
        }
        return value;
    }

    private void skipBody() throws IOException {
        if (bodyRemaining > 0 || bodyPadding > 0) {
            skipFully(bodyRemaining + bodyPadding, "entry body");
            bodyRemaining = 0;
            bodyPadding = 0;
        }
    }

    private byte[] readFully(int length, String what) throws IOException {
        byte[] bytes = in.readNBytes(length);
        position += bytes.length;
        if (bytes.length < length) {
            throw new CpioFormatException(source + ": cpio archive truncated in the " + what);
        }
        return bytes;
    }

    private void skipFully(long length, String what) throws IOException {
        try {
            in.skipNBytes(length);
        } catch (EOFException e) {
            throw new CpioFormatException(source + ": cpio archive truncated in the " + what);
        }
        position += length;
    }

    private static long padding(long length) {
        return (4 - (length & 3)) & 3;
    }
}
