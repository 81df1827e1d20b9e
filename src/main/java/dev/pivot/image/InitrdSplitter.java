package dev.pivot.image;

import com.github.luben.zstd.ZstdInputStream;
import dev.pivot.format.Compression;
import dev.pivot.format.FileSlice;
import dev.pivot.format.GzipMember;
import dev.pivot.format.ZstdFrame;
import dev.pivot.format.cpio.CpioEntry;
import dev.pivot.format.cpio.CpioReader;
import dev.pivot.stage1.Stage1Contract;
import org.tukaani.xz.SingleXZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;

/**
 * Walks an initrd the way the kernel's unpack_to_rootfs() does: a sequence of (optionally compressed) cpio
 * archives with NUL padding between them. Each compressed segment's exact end is found (gzip: the inflater's
 * unconsumed input; xz: the stream footer read by an unbuffered decoder; zstd: the frame's block headers), so the
 * stage-1 part can be cut out byte for byte.
 */
public final class InitrdSplitter {

    public static final String ROOT_IMAGE = Stage1Contract.ROOT_IMAGE_FILE;

    /** Formats whose segment end is found exactly; any other compressed segment is taken to run to the end. */
    private static final Set<Compression> EXACT_END = EnumSet.of(Compression.NONE, Compression.GZIP,
            Compression.XZ, Compression.ZSTD);

    /** Receives the root image's body during the walk, so it is decompressed only once. */
    @FunctionalInterface
    public interface RootImageSink {
        void accept(CpioEntry entry, InputStream body) throws IOException;
    }

    private InitrdSplitter() {
    }

    public static InitrdLayout split(Path initrd) throws ImageException {
        return split(initrd, null);
    }

    public static InitrdLayout split(Path initrd, RootImageSink sink) throws ImageException {
        Walk walk = walk(initrd, sink);
        String source = initrd.toString();
        List<InitrdSegment> segments = walk.segments();
        if (walk.rootSegment() < 0) {
            String summary = segments.stream().map(InitrdSegment::describe).collect(Collectors.joining(", "));
            throw new ImageException(source + ": no " + ROOT_IMAGE + " in any of its " + segments.size()
                    + " archives (" + summary + ")");
        }
        checkRootSegmentAlone(source, segments, walk.rootSegment());
        return new InitrdLayout(initrd, segments, walk.rootSegment(), walk.rootEntry());
    }

    /** The segments of any initrd (with or without a root image), as the kernel would unpack them. */
    public static List<InitrdSegment> segments(Path initrd) throws ImageException {
        return walk(initrd, null).segments();
    }

    private record Walk(List<InitrdSegment> segments, int rootSegment, CpioEntry rootEntry) {
    }

    private static Walk walk(Path initrd, RootImageSink sink) throws ImageException {
        String source = initrd.toString();
        try (FileChannel channel = FileChannel.open(initrd, StandardOpenOption.READ)) {
            return walk(channel, initrd, source, sink);
        } catch (NoSuchFileException e) {
            throw new ImageException(source + ": no such file");
        } catch (IOException e) {
            String message = String.valueOf(e.getMessage());
            throw new ImageException(message.startsWith(source) ? message : source + ": " + message, e);
        }
    }

    private static Walk walk(FileChannel channel, Path initrd, String source, RootImageSink sink)
            throws IOException, ImageException {
        if (Files.isDirectory(initrd)) {
            throw new ImageException(source + ": is a directory, not an initrd");
        }
        long size = channel.size();
        List<InitrdSegment> segments = new ArrayList<>();
        int rootSegment = -1;
        CpioEntry rootEntry = null;
        long offset = 0;
        while ((offset = skipNuls(channel, offset, size)) < size) {
            byte[] head = FileSlice.readAt(channel, offset, Compression.MAGIC_LENGTH);
            Compression compression = Compression.detect(head).orElse(null);
            if (compression == null || compression == Compression.LZO) {
                throw unknownData(source, offset, head, compression, segments);
            }
            String where = !compression.compressed() ? source : source + " (" + compression.label() + " archive at offset "
                    + offset + ")";
            List<CpioEntry> entries = new ArrayList<>();
            long end;
            if (compression == Compression.NONE) {
                CpioReader reader = new CpioReader(new BufferedInputStream(new FileSlice(channel, offset, size),
                        64 * 1024), where);
                rootEntry = list(reader, entries, rootEntry, sink, source);
                end = offset + reader.position();
            } else {
                Decompressed d = decompress(channel, offset, size, compression, source);
                try (InputStream in = new BufferedInputStream(d.stream(), 64 * 1024)) {
                    rootEntry = list(CpioReader.allArchives(in, where), entries, rootEntry, sink, source);
                    in.transferTo(OutputStream.nullOutputStream());
                } catch (IOException e) {
                    if (!EXACT_END.contains(compression)) {
                        throw new IOException(e.getMessage() + " (Pivot finds where an archive ends only for gzip,"
                                + " xz, zstd and plain cpio, so a " + compression.label()
                                + " archive must come last)", e);
                    }
                    throw e;
                }
                end = d.end().getAsLong();
            }
            InitrdSegment segment = new InitrdSegment(offset, end, compression, entries);
            if (rootSegment < 0 && rootEntry != null) {
                rootSegment = segments.size();
            }
            segments.add(segment);
            offset = end;
        }
        return new Walk(segments, rootSegment, rootEntry);
    }

    /** Lists a segment's entries; hands the root image's body to the sink. Returns the root entry seen so far. */
    private static CpioEntry list(CpioReader reader, List<CpioEntry> entries, CpioEntry rootEntry,
                                  RootImageSink sink, String source) throws IOException, ImageException {
        CpioEntry entry;
        while ((entry = reader.next()) != null) {
            entries.add(entry);
            if (entry.isRegularFile() && entry.path().equals(ROOT_IMAGE)) {
                if (rootEntry != null) {
                    throw new ImageException(source + ": holds " + ROOT_IMAGE + " twice");
                }
                rootEntry = entry;
                if (sink != null) {
                    sink.accept(entry, reader.body());
                }
            }
        }
        return rootEntry;
    }

    /**
     * The stage-1 part is everything before the root image's segment, so that segment must hold nothing stage 1
     * needs, and nothing may follow it.
     */
    private static void checkRootSegmentAlone(String source, List<InitrdSegment> segments, int rootSegment)
            throws ImageException {
        InitrdSegment root = segments.get(rootSegment);
        List<String> others = root.entries().stream()
                .filter(e -> !e.isDirectory() && !e.path().equals(ROOT_IMAGE))
                .map(CpioEntry::name)
                .toList();
        if (!others.isEmpty()) {
            throw new ImageException(source + ": the " + root.compression().label() + " archive at offset "
                    + root.start() + " holds other files beside " + ROOT_IMAGE + " (" + String.join(", ",
                    others.subList(0, Math.min(5, others.size()))) + (others.size() > 5 ? ", …" : "")
                    + "); Pivot cannot split it");
        }
        if (rootSegment != segments.size() - 1) {
            InitrdSegment next = segments.get(rootSegment + 1);
            throw new ImageException(source + ": another archive (" + next.describe() + ") follows the one holding "
                    + ROOT_IMAGE + " at offset " + next.start() + "; Pivot cannot split it");
        }
    }

    private record Decompressed(InputStream stream, LongSupplier end) {
    }

    private static Decompressed decompress(FileChannel channel, long offset, long size, Compression compression,
                                           String source) throws IOException {
        switch (compression) {
            case GZIP -> {
                GzipMember member = new GzipMember(channel, offset, source);
                return new Decompressed(member, member::end);
            }
            case XZ -> {
                // Unbuffered input: SingleXZInputStream then stops exactly after the stream footer.
                FileSlice slice = new FileSlice(channel, offset, size);
                return new Decompressed(new SingleXZInputStream(slice, Compression.MAX_DICTIONARY_KIB), slice::position);
            }
            case ZSTD -> {
                // One frame per segment, as the kernel's unzstd(), which stops when a frame is complete.
                long end = ZstdFrame.end(channel, offset, source);
                InputStream frame = new BufferedInputStream(new FileSlice(channel, offset, end), 64 * 1024);
                return new Decompressed(new ZstdInputStream(frame), () -> end);
            }
            default -> {
                // lzma, bzip2, lz4: no cheap exact end; such a segment is taken to run to the end of the file.
                return new Decompressed(compression.open(new FileSlice(channel, offset, size)), () -> size);
            }
        }
    }

    private static long skipNuls(FileChannel channel, long offset, long size) throws IOException {
        while (offset < size) {
            byte[] chunk = FileSlice.readAt(channel, offset, 4096);
            for (int i = 0; i < chunk.length; i++) {
                if (chunk[i] != 0) {
                    return offset + i;
                }
            }
            offset += chunk.length;
        }
        return size;
    }

    private static ImageException unknownData(String source, long offset, byte[] head, Compression compression,
                                              List<InitrdSegment> segments) {
        String magic = HexFormat.of().formatHex(head);
        if (compression == Compression.LZO) {
            return new ImageException(source + ": lzo-compressed archive at offset " + offset
                    + " is not supported (use gzip, xz or zstd)");
        }
        if (segments.isEmpty()) {
            return new ImageException(source + ": not a cpio archive (magic " + magic + ")");
        }
        return new ImageException(source + ": unknown data at offset " + offset + " after " + segments.size()
                + (segments.size() == 1 ? " archive" : " archives") + " (magic " + magic + ")");
    }
}
