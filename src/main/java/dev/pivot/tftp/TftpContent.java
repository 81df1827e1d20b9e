package dev.pivot.tftp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** What a read request resolved to: a file on disk or bytes generated for this request. */
public sealed interface TftpContent {

    /** The octet size. */
    long size();

    /** Opens a sequential reader; the caller closes it. */
    Reader open() throws IOException;

    /** Sequential bytes. {@link #read} fills {@code length} bytes unless the content ends first. */
    interface Reader extends AutoCloseable {
        /** Returns how many bytes were read: fewer than {@code length} only at the end. */
        int read(byte[] into, int offset, int length) throws IOException;

        @Override
        void close() throws IOException;
    }

    record FileContent(Path path, long size) implements TftpContent {
        @Override
        public Reader open() throws IOException {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            return new Reader() {
                private long position;

                // Positional reads: only one block is in memory per read, whatever the file's size.
                @Override
                public int read(byte[] into, int offset, int length) throws IOException {
                    ByteBuffer buffer = ByteBuffer.wrap(into, offset, length);
                    while (buffer.hasRemaining()) {
                        int n = channel.read(buffer, position);
                        if (n < 0) {
                            break;
                        }
                        position += n;
                    }
                    return buffer.position() - offset;
                }

                @Override
                public void close() throws IOException {
                    channel.close();
                }
            };
        }
    }

    record MemoryContent(byte[] bytes) implements TftpContent {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public Reader open() {
            return new Reader() {
                private int position;

                @Override
                public int read(byte[] into, int offset, int length) {
                    int n = Math.min(length, bytes.length - position);
                    System.arraycopy(bytes, position, into, offset, n);
                    position += n;
                    return n;
                }

                @Override
                public void close() { }
            };
        }
    }
}
