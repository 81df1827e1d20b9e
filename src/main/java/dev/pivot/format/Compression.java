package dev.pivot.format;

import com.github.luben.zstd.ZstdInputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.apache.commons.compress.compressors.lz4.FramedLZ4CompressorInputStream;
import org.tukaani.xz.LZMAInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/** How an initrd segment is compressed, detected by its magic bytes like the kernel's decompress_method(). */
public enum Compression {
    /** An uncompressed newc cpio archive ("07070"). */
    NONE("cpio", new byte[] {'0', '7', '0', '7', '0'}),
    GZIP("gzip", new byte[] {0x1f, (byte) 0x8b}),
    XZ("xz", new byte[] {(byte) 0xfd, '7', 'z', 'X', 'Z', 0}),
    ZSTD("zstd", new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd}),
    LZMA("lzma", new byte[] {0x5d, 0, 0}),
    BZIP2("bzip2", new byte[] {'B', 'Z', 'h'}),
    /** The kernel's lz4 is the legacy format ("lz4 -l"). */
    LZ4_LEGACY("lz4", new byte[] {0x02, 0x21, 0x4c, 0x18}),
    LZ4_FRAME("lz4", new byte[] {0x04, 0x22, 0x4d, 0x18}),
    /** Recognised so the error can say so; Pivot cannot decompress lzop. */
    LZO("lzo", new byte[] {(byte) 0x89, 'L', 'Z', 'O', 0});

    /** Bytes {@link #detect} needs to tell all formats apart. */
    public static final int MAGIC_LENGTH = 6;

    private final String label;
    private final byte[] magic;

    Compression(String label, byte[] magic) {
        this.label = label;
        this.magic = magic;
    }

    /** Short name for messages: "gzip", "xz", "cpio" (uncompressed). */
    public String label() {
        return label;
    }

    public boolean compressed() {
        return this != NONE;
    }

    /** The format whose magic starts {@code head}, if any. */
    public static Optional<Compression> detect(byte[] head, int length) {
        for (Compression c : values()) {
            if (startsWith(head, length, c.magic)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }

    public static Optional<Compression> detect(byte[] head) {
        return detect(head, head.length);
    }

    /**
     * A stream of the decompressed bytes. For gzip, xz and zstd it continues over concatenated members/streams;
     * a caller that needs exact segment ends reads with {@link GzipMember} and {@link ZstdFrame} instead.
     */
    /**
     * The most memory an xz or lzma header may make the decoder take, in KiB: a header is the sender's to write, and
     * one declaring a 4 GiB dictionary would otherwise exhaust the heap. xz -9 (and every kernel's initrd) needs 64
     * MiB at most; above the limit the stream fails as corrupt (an IOException).
     */
    public static final int MAX_DICTIONARY_KIB = 96 * 1024;

    public InputStream open(InputStream compressed) throws IOException {
        InputStream in = compressed.markSupported() ? compressed : new BufferedInputStream(compressed, 64 * 1024);
        return switch (this) {
            case NONE -> in;
            case GZIP -> new GZIPInputStream(in, 64 * 1024);
            case XZ -> new XZInputStream(in, MAX_DICTIONARY_KIB);
            case ZSTD -> new ZstdInputStream(in);
            case LZMA -> new LZMAInputStream(in, MAX_DICTIONARY_KIB);
            case BZIP2 -> new BZip2CompressorInputStream(in, true);
            case LZ4_LEGACY -> new LegacyLz4InputStream(in);
            case LZ4_FRAME -> new FramedLZ4CompressorInputStream(in, true);
            case LZO -> throw new IOException("lzo-compressed data is not supported (use gzip, xz or zstd)");
        };
    }

    private static boolean startsWith(byte[] head, int length, byte[] prefix) {
        if (length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (head[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
