package dev.pivot.format.squashfs;

import com.github.luben.zstd.Zstd;
import org.tukaani.xz.XZInputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * How metadata and data blocks are compressed. Each block is compressed on its own (a zlib stream, an xz stream,
 * a zstd frame) and decompresses to at most a known size: 8 KiB for metadata, the block size for data.
 */
enum Compressor {
    GZIP(1, "gzip"),
    XZ(4, "xz"),
    ZSTD(6, "zstd");

    /** xz's decoder memory cap; squashfs dictionaries are at most the block size (1 MiB). */
    private static final int XZ_MEMORY_LIMIT_KIB = 64 * 1024;

    private final int id;
    private final String label;

    Compressor(int id, String label) {
        this.id = id;
        this.label = label;
    }

    static String name(int id) {
        return switch (id) {
            case 1 -> "gzip";
            case 2 -> "lzma";
            case 3 -> "lzo";
            case 4 -> "xz";
            case 5 -> "lz4";
            case 6 -> "zstd";
            default -> "unknown (id " + id + ")";
        };
    }

    /** The compressor for a superblock's compression id, or a clear error for the ones Pivot cannot read. */
    static Compressor forId(int id, String file) throws SquashfsException {
        for (Compressor c : values()) {
            if (c.id == id) {
                return c;
            }
        }
        if (id >= 2 && id <= 5) {
            throw new SquashfsException(file + ": unsupported compression " + name(id)
                    + " (Pivot reads gzip, xz and zstd squashfs images; rebuild with mksquashfs -comp zstd)");
        }
        throw new SquashfsException(file + ": corrupt superblock: unknown compression id " + id);
    }

    String label() {
        return label;
    }

    /**
     * Decompresses {@code src[0, length)} into {@code dst} and returns how many bytes it produced.
     *
     * @throws IOException with a short reason if the data is not valid or decompresses to more than dst holds
     */
    int decompress(byte[] src, int length, byte[] dst) throws IOException {
        return switch (this) {
            case GZIP -> inflate(src, length, dst);
            case XZ -> unxz(src, length, dst);
            case ZSTD -> unzstd(src, length, dst);
        };
    }

    private static int inflate(byte[] src, int length, byte[] dst) throws IOException {
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(src, 0, length);
            int n = 0;
            while (!inflater.finished()) {
                if (n == dst.length) {
                    // Full: the stream must end here, or it is larger than a block may be.
                    if (inflater.inflate(new byte[1]) > 0 || !inflater.finished()) {
                        throw new IOException("zlib data larger than " + dst.length + " bytes");
                    }
                    break;
                }
                int got = inflater.inflate(dst, n, dst.length - n);
                if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    throw new IOException("zlib data ends early");
                }
                n += got;
            }
            return n;
        } catch (DataFormatException e) {
            throw new IOException("bad zlib data: " + e.getMessage(), e);
        } finally {
            inflater.end();
        }
    }

    private static int unxz(byte[] src, int length, byte[] dst) throws IOException {
        try (InputStream in = new XZInputStream(new ByteArrayInputStream(src, 0, length), XZ_MEMORY_LIMIT_KIB)) {
            int n = in.readNBytes(dst, 0, dst.length);
            if (n == dst.length && in.read() >= 0) {
                throw new IOException("xz data larger than " + dst.length + " bytes");
            }
            return n;
        } catch (IOException e) {
            throw new IOException("bad xz data: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IOException("bad xz data: " + e, e);
        }
    }

    private static int unzstd(byte[] src, int length, byte[] dst) throws IOException {
        long n;
        try {
            n = Zstd.decompressByteArray(dst, 0, dst.length, src, 0, length);
        } catch (RuntimeException e) {
            throw new IOException("bad zstd data: " + e.getMessage(), e);
        }
        if (Zstd.isError(n)) {
            throw new IOException("bad zstd data: " + Zstd.getErrorName(n));
        }
        return (int) n;
    }
}
