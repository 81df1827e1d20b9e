package dev.pivot.nbd;

import dev.pivot.os.Descriptors;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The exports' files, open for reading: one descriptor per file, shared by every connection reading it (sendfile
 * takes its offset from the caller, never from the descriptor), closed when the last of them detaches, so a deleted
 * image's space is not held while nobody reads it.
 */
final class ExportFiles {

    /** One open file; each acquisition closes it once (the last close closes the descriptor). */
    final class Open implements AutoCloseable {
        private final Path file;
        private final RandomAccessFile handle;
        private final int descriptor;
        private int users;

        private Open(Path file, RandomAccessFile handle, int descriptor) {
            this.file = file;
            this.handle = handle;
            this.descriptor = descriptor;
        }

        /** The file's descriptor, valid until the last close. */
        int descriptor() {
            return descriptor;
        }

        @Override
        public void close() {
            release(this);
        }
    }

    private final Map<Path, Open> files = new HashMap<>();

    /**
     * {@code file}, open; its first {@code size} bytes are the export. Every call needs one close of what it returns.
     * Throws naming the file when it cannot be opened or is shorter than the export.
     */
    synchronized Open acquire(Path file, long size) throws IOException {
        Open open = files.get(file);
        if (open == null) {
            RandomAccessFile handle = new RandomAccessFile(file.toFile(), "r");
            try {
                long length = handle.length();
                if (length < size) {
                    throw new IOException(file + " has " + length + " bytes, fewer than its export (" + size + ")");
                }
                open = new Open(file, handle, Descriptors.of(handle.getFD(), "the NBD server"));
            } catch (IOException | RuntimeException e) {
                handle.close();
                throw e;
            }
            files.put(file, open);
        }
        open.users++;
        return open;
    }

    private synchronized void release(Open open) {
        if (--open.users == 0) {
            files.remove(open.file);
            try {
                open.handle.close();
            } catch (IOException ignored) {
                // a read-only descriptor: nothing is lost
            }
        }
    }
}
