package dev.pivot.image;

import dev.pivot.format.FileSlice;
import dev.pivot.format.cpio.CpioEntry;
import dev.pivot.format.cpio.CpioReader;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Where things are in a NixOS netboot initrd: the stage-1 part is every segment before the one holding
 * nix-store.squashfs, kept byte for byte; the root image is that file's body inside its (compressed) segment.
 *
 * @param rootSegment index in {@code segments} of the segment holding the root image
 * @param rootEntry   the root image's cpio entry
 */
public record InitrdLayout(Path initrd, List<InitrdSegment> segments, int rootSegment, CpioEntry rootEntry) {

    public InitrdLayout {
        segments = List.copyOf(segments);
    }

    /** Length of the stage-1 part: bytes [0, stage1Length()) of the initrd. */
    public long stage1Length() {
        return segments.get(rootSegment).start();
    }

    /** The stage-1 part, byte for byte as in the initrd. */
    public InputStream openStage1() throws IOException {
        FileChannel channel = FileChannel.open(initrd, StandardOpenOption.READ);
        return new ClosingChannel(new FileSlice(channel, 0, stage1Length()), channel);
    }

    /** The root image's bytes, decompressed again out of its segment (streamed, never held in memory). */
    public InputStream openRootImage() throws IOException {
        InitrdSegment segment = segments.get(rootSegment);
        FileChannel channel = FileChannel.open(initrd, StandardOpenOption.READ);
        try {
            InputStream raw = new FileSlice(channel, segment.start(), segment.end());
            CpioReader reader = CpioReader.allArchives(segment.compression().open(raw), initrd.toString());
            CpioEntry entry;
            while ((entry = reader.next()) != null) {
                if (entry.name().equals(rootEntry.name()) && entry.isRegularFile()) {
                    return new ClosingChannel(reader.body(), channel);
                }
            }
            throw new IOException(initrd + ": " + rootEntry.name() + " vanished from the archive at offset "
                    + segment.start());
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static final class ClosingChannel extends FilterInputStream {
        private final FileChannel channel;

        ClosingChannel(InputStream in, FileChannel channel) {
            super(in);
            this.channel = channel;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return in.read(b, off, len);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
