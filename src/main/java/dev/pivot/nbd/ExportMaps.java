package dev.pivot.nbd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The exports' files mapped into the server's memory: one read-only mapping per file, shared by every connection
 * reading it, unmapped when the last of them detaches (so a deleted image's space is not held while nobody reads
 * it).
 *
 * <p>Why a mapping: a read's reply then goes out in one gathering write, the header and the mapped bytes, copied by
 * the kernel from the page cache into the socket. Reading into a buffer first costs a second system call and a
 * second copy; sendfile after the header cannot go in the same call, and the JDK's transferTo adds two calls of its
 * own per request (fstat, and a copy_file_range that fails on a socket). One mapping for all connections rather than
 * one each: a connection's first touch of a page costs a page fault, and random readers would each pay it again for
 * every page. The JVM never reads the mapped bytes itself (only the kernel does, inside the write), so a file that
 * shrank under the server fails that write with an error instead of crashing the process.
 *
 * <p>The pages a write touched stay mapped while any connection reads the image, so they count in the server's RSS
 * (as RssFile): they are the page cache's own pages, shared with every other reader of the file and given back under
 * memory pressure; the server's private memory (RssAnon) does not grow with them. Dropping them from the mapping
 * after every so many bytes sent (madvise DONTNEED) was tried and not kept: each pass of a sequential reader then
 * faults every page in again, which cost one sequential reader about a fifth of its rate.
 */
final class ExportMaps {

    /** One file's mapping; each acquisition closes it once (the last close unmaps it). */
    final class Mapping implements AutoCloseable {
        private final Path file;
        private final Arena arena;
        private final MemorySegment bytes;
        private int users;

        private Mapping(Path file, Arena arena, MemorySegment bytes) {
            this.file = file;
            this.arena = arena;
            this.bytes = bytes;
        }

        /** The export's bytes: offsets are the export's offsets. */
        MemorySegment bytes() {
            return bytes;
        }

        @Override
        public void close() {
            release(this);
        }
    }

    private final Map<Path, Mapping> mappings = new HashMap<>();

    /**
     * The mapping of {@code file}, whose first {@code size} bytes are the export; every call needs one close of
     * the mapping returned. Throws naming the file when it cannot be mapped or is shorter than the export.
     */
    synchronized Mapping acquire(Path file, long size) throws IOException {
        Mapping mapping = mappings.get(file);
        if (mapping == null) {
            Arena arena = Arena.ofShared();
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                long length = channel.size();
                if (length < size) {
                    throw new IOException(file + " has " + length + " bytes, fewer than its export (" + size + ")");
                }
                mapping = new Mapping(file, arena, channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena));
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
            mappings.put(file, mapping);
        }
        mapping.users++;
        return mapping;
    }

    private synchronized void release(Mapping mapping) {
        if (--mapping.users == 0) {
            mappings.remove(mapping.file);
            mapping.arena.close();
        }
    }
}
