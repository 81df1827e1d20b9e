package dev.pivot.format;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * Finds where a zstd frame ends by walking its block headers (RFC 8878 §3.1.1), without decompressing:
 * frame header, blocks (3-byte header each; a raw or compressed block carries Block_Size bytes, an RLE block one),
 * then an optional 4-byte checksum.
 */
public final class ZstdFrame {

    private ZstdFrame() {
    }

    public static long end(FileChannel channel, long start, String source) throws IOException {
        byte[] header = FileSlice.readAt(channel, start, 18);
        if (header.length < 6) {
            throw new IOException(what(source, start) + " is truncated in its header");
        }
        int descriptor = header[4] & 0xff;
        int contentSizeFlag = descriptor >>> 6;
        boolean singleSegment = (descriptor & 0x20) != 0;
        boolean checksum = (descriptor & 0x04) != 0;
        int dictionaryIdFlag = descriptor & 0x03;
        if ((descriptor & 0x08) != 0) {
            throw new IOException(what(source, start) + " has a reserved header bit set");
        }
        int contentSizeBytes = switch (contentSizeFlag) {
            case 0 -> singleSegment ? 1 : 0;
            case 1 -> 2;
            case 2 -> 4;
            default -> 8;
        };
        int dictionaryIdBytes = new int[] {0, 1, 2, 4}[dictionaryIdFlag];
        long at = start + 5 + (singleSegment ? 0 : 1) + dictionaryIdBytes + contentSizeBytes;
        long fileSize = channel.size();
        while (true) {
            byte[] block = FileSlice.readAt(channel, at, 3);
            if (block.length < 3) {
                throw new IOException(what(source, start) + " is truncated");
            }
            int blockHeader = (block[0] & 0xff) | (block[1] & 0xff) << 8 | (block[2] & 0xff) << 16;
            boolean last = (blockHeader & 1) != 0;
            int type = (blockHeader >>> 1) & 3;
            long size = blockHeader >>> 3;
            if (type == 3) {
                throw new IOException(what(source, start) + " has a reserved block type at offset " + at);
            }
            at += 3 + (type == 1 ? 1 : size);
            if (at > fileSize) {
                throw new IOException(what(source, start) + " is truncated");
            }
            if (last) {
                break;
            }
        }
        long end = at + (checksum ? 4 : 0);
        if (end > fileSize) {
            throw new IOException(what(source, start) + " is truncated");
        }
        return end;
    }

    private static String what(String source, long start) {
        return source + ": zstd archive at offset " + start;
    }
}
