package dev.pivot.format.cpio;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Streams a newc ("070701") cpio archive, the format the kernel unpacks as initramfs.
 *
 * <p>Reproducible by construction: uid/gid 0, mtime 0, inode numbers counted from 1 in write order. Every header
 * plus name and every body is padded to 4 bytes, so the archive (ending with TRAILER!!!) is a multiple of 4 long:
 * the EFI stub concatenates initrds without aligning them (netboot-facts pitfall 6). Leading "/" are dropped from
 * names, as GNU cpio and the kernel's own gen_init_cpio do.
 */
public final class CpioWriter implements AutoCloseable {

    /** newc stores sizes in 8 hex digits: bigger files would be silently truncated (nixpkgs #399607). */
    public static final long MAX_FILE_SIZE = 0xFFFF_FFFFL;

    private static final String TRAILER = "TRAILER!!!";

    private final OutputStream out;
    private long written;
    private long nextIno = 1;
    private boolean finished;

    public CpioWriter(OutputStream out) {
        this.out = out;
    }

    public void directory(String name, int permissions) throws IOException {
        header(name, CpioEntry.S_IFDIR | permissions, 0, 2, 0, 0);
    }

    public void file(String name, int permissions, byte[] content) throws IOException {
        checkSize(name, content.length);
        header(name, CpioEntry.S_IFREG | permissions, content.length, 1, 0, 0);
        write(content, content.length);
        pad();
    }

    /** Copies {@code source} in small buffers: it may be a multi-GB squashfs. */
    public void file(String name, int permissions, Path source) throws IOException {
        long size = Files.size(source);
        checkSize(name, size);
        header(name, CpioEntry.S_IFREG | permissions, size, 1, 0, 0);
        long copied = 0;
        try (InputStream in = Files.newInputStream(source)) {
            byte[] buffer = new byte[64 * 1024];
            int n;
            while (copied < size && (n = in.read(buffer, 0, (int) Math.min(buffer.length, size - copied))) > 0) {
                write(buffer, n);
                copied += n;
            }
        }
        if (copied != size) {
            throw new IOException(source + ": changed size while being archived (" + size + " → " + copied + ")");
        }
        pad();
    }

    public void symlink(String name, String target) throws IOException {
        byte[] bytes = target.getBytes(StandardCharsets.UTF_8);
        header(name, CpioEntry.S_IFLNK | 0777, bytes.length, 1, 0, 0);
        write(bytes, bytes.length);
        pad();
    }

    public void charDevice(String name, int permissions, int major, int minor) throws IOException {
        header(name, CpioEntry.S_IFCHR | permissions, 0, 1, major, minor);
    }

    /** Writes the trailer. The archive is then complete and a multiple of 4 bytes long. */
    public void finish() throws IOException {
        if (finished) {
            return;
        }
        writeHeader(TRAILER, 0, 0, 1, 0, 0, 0);
        finished = true;
        out.flush();
    }

    /** Finishes the archive and closes the underlying stream. */
    @Override
    public void close() throws IOException {
        try {
            finish();
        } finally {
            out.close();
        }
    }

    private void header(String name, int mode, long size, long nlink, int rdevMajor, int rdevMinor)
            throws IOException {
        if (finished) {
            throw new IllegalStateException("cpio archive already finished");
        }
        String stored = name;
        while (stored.startsWith("/")) {
            stored = stored.substring(1);
        }
        if (stored.isEmpty() || stored.equals(TRAILER) || stored.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("bad cpio entry name: \"" + name + "\"");
        }
        writeHeader(stored, nextIno++, mode, nlink, size, rdevMajor, rdevMinor);
    }

    private void writeHeader(String name, long ino, int mode, long nlink, long size, int rdevMajor, int rdevMinor)
            throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder(110).append("070701");
        long[] fields = {ino, mode, 0 /* uid */, 0 /* gid */, nlink, 0 /* mtime */, size,
                0 /* devmajor */, 0 /* devminor */, rdevMajor, rdevMinor, nameBytes.length + 1L, 0 /* check */};
        for (long field : fields) {
            h.append(String.format("%08x", field));
        }
        byte[] header = h.toString().getBytes(StandardCharsets.US_ASCII);
        write(header, header.length);
        write(nameBytes, nameBytes.length);
        write(new byte[] {0}, 1);
        pad();
    }

    private static void checkSize(String name, long size) {
        if (size > MAX_FILE_SIZE) {
            throw new IllegalArgumentException(name + ": " + size + " bytes is more than newc cpio can hold (4 GiB - 1)");
        }
    }

    private void write(byte[] bytes, int length) throws IOException {
        out.write(bytes, 0, length);
        written += length;
    }

    private void pad() throws IOException {
        int padding = (int) ((4 - (written & 3)) & 3);
        if (padding > 0) {
            write(new byte[padding], padding);
        }
    }
}
