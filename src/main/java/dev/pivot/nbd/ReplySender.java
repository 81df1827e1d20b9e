package dev.pivot.nbd;

import dev.pivot.os.Descriptors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * How a read's reply leaves the server. A small read (a kernel client's 4 KiB page, its readahead up to
 * {@link #SMALL}) is pread(2) into the connection's buffer behind a copy of the header and one send(2) of both: with
 * many clients on few CPUs the calls per request are the server's work, and a page copied costs less than a second
 * pass through TCP. Any larger read is send(2) of the header with MSG_MORE (TCP holds it back, so that it goes out in
 * one segment with the data), then the bytes from the image file. The file is never mapped, so the server's RSS does
 * not grow with what it serves, however large the image and however many read it.
 *
 * <p>Three ways for a larger read's bytes. Up to {@link #LARGE}, one sendfile(2). A large read sent
 * while another large reply is being sent goes through a pipe of the connection's own, made as large as the system
 * allows: splice(2) from the file into the pipe, then from the pipe into the socket. sendfile moves its bytes through
 * a pipe too, but only 16 pages at a time, each step a send of its own; with many clients reading large blocks those
 * steps, not the bytes, become the server's work, and one step per pipe-full costs far less. A large read sent
 * alone is read into the connection's buffer and sent from there, as nbdkit does: one reader waiting for each reply
 * is held up by its own copy out of the socket, not by the server, and copying on the server's side leaves the bytes
 * in the CPU's cache for it, where a spliced page comes to it cold from memory. Either way the bytes are the page
 * cache's or in a buffer of fixed size: the server's memory does not grow with what it serves.
 *
 * <p>Java has no public way to any of these calls: {@code FileChannel.transferTo} adds two system calls of its own
 * per request (fstat, and a copy_file_range that fails on a socket) and cannot hold the header back. The calls go
 * through the FFM API, on the descriptors the JDK opened (which needs
 * {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} and {@code --enable-native-access=ALL-UNNAMED}, as
 * `./pivot` runs it).
 *
 * <p>One instance per connection, used only by the connection's own thread (its buffers are confined to it). The
 * socket is a blocking one (connection threads are platform threads): a full socket buffer blocks the call, as a
 * channel write would. Another thread stops a connection with shutdown(2), which wakes a blocked call with EPIPE;
 * only the connection's thread closes the descriptor, so no call here ever meets a descriptor number that was
 * closed and given to another file.
 */
final class ReplySender implements AutoCloseable {

    private static final int MSG_NOSIGNAL = 0x4000, MSG_MORE = 0x8000;
    private static final int EINTR = 4, EAGAIN = 11;
    private static final int O_CLOEXEC = 0x80000, F_SETPIPE_SZ = 1031, SPLICE_F_MOVE = 1, SPLICE_F_MORE = 4;
    /** Reads of at most this many bytes are small: read into a buffer behind their header, sent in one call. */
    static final int SMALL = 64 * 1024;
    /** Reads of at least this many bytes are large: copied or spliced (see above); smaller ones are one sendfile. */
    static final long LARGE = 256 * 1024;
    /** The connection's copy buffer, made at its first large read sent alone. */
    static final int BUFFER_BYTES = 1024 * 1024;
    /** Large replies being sent now, by every connection of the process. */
    private static final AtomicInteger LARGE_REPLIES = new AtomicInteger();
    /** The pipe's size asked for: the default /proc/sys/fs/pipe-max-size; a smaller one still works, in more steps. */
    static final int PIPE_BYTES = 1024 * 1024;
    private static final short POLLOUT = 4;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SEND = downcall("send",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SENDFILE = downcall("sendfile",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle SPLICE = downcall("splice",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle PIPE2 = downcall("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FCNTL = downcall("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PREAD = downcall("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle POLL = downcall("poll",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private final int socket;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment header;
    private final ByteBuffer headerView;
    private final MemorySegment offset = arena.allocate(JAVA_LONG);
    private final MemorySegment state = arena.allocate(CALL_STATE);
    private final MemorySegment pollFd = arena.allocate(8);
    private final MemorySegment pipeEnds = arena.allocate(JAVA_INT, 2);
    /** The pipe's read and write ends; -1 until the first large read. */
    private int pipeOut = -1, pipeIn = -1;
    private MemorySegment buffer;
    /** The header and a small read's bytes, made at the first small read. */
    private MemorySegment small;

    /** @param headerBytes the largest header {@link #reply} sends */
    ReplySender(SocketChannel channel, int headerBytes) throws IOException {
        this.socket = Descriptors.of(channel, "the NBD server");
        this.header = arena.allocate(headerBytes);
        this.headerView = header.asByteBuffer();
    }

    /** Where the caller encodes the next reply's header (big-endian, from position 0). */
    ByteBuffer header() {
        return headerView.clear();
    }

    /**
     * Sends the header (position 0 to the view's position) and then {@code count} bytes of {@code file} from
     * {@code from}. Throws when the connection is lost or the file ends before them.
     */
    void reply(int file, long from, long count) throws IOException {
        if (count <= SMALL) {
            withHeader(file, from, count);
            return;
        }
        sendAll(header, headerView.position(), MSG_MORE);
        offset.set(JAVA_LONG, 0, from); // where sendfile and splice read; they move it on
        if (count < LARGE) {
            sendFile(file, count);
            return;
        }
        // Every large reply counts itself while it is sent: alone, it is copied; beside another, it is spliced.
        boolean alone = LARGE_REPLIES.incrementAndGet() == 1;
        try {
            if (alone) {
                copied(file, from, count);
            } else {
                throughPipe(file, count);
            }
        } finally {
            LARGE_REPLIES.decrementAndGet();
        }
    }

    /** pread(2) into the connection's buffer and send(2) from it, a buffer-full at a time. */
    private void copied(int file, long from, long count) throws IOException {
        if (buffer == null) {
            buffer = arena.allocate(BUFFER_BYTES, 4096);
        }
        long left = count;
        long at = from;
        while (left > 0) {
            long chunk = Math.min(left, BUFFER_BYTES);
            preadFully(file, buffer, chunk, at);
            left -= chunk;
            at += chunk;
            sendAll(buffer, chunk, left > 0 ? MSG_MORE : 0);
        }
    }

    /** pread(2) into the connection's small buffer behind a copy of the header, then one send(2) of both. */
    private void withHeader(int file, long from, long count) throws IOException {
        if (small == null) {
            small = arena.allocate(header.byteSize() + SMALL, 4096);
        }
        int head = headerView.position();
        MemorySegment.copy(header, 0, small, 0, head);
        preadFully(file, small.asSlice(head), count, from);
        sendAll(small, head + count, 0);
    }

    /** pread(2) of {@code count} bytes of {@code file} from {@code at} into {@code into}, however many calls it takes. */
    private void preadFully(int file, MemorySegment into, long count, long at) throws IOException {
        for (long got = 0; got < count; ) {
            got += moved(pread(file, got == 0 ? into : into.asSlice(got), count - got, at + got), "pread", at + got);
        }
    }

    /** send(2) of the first {@code length} bytes of {@code bytes}, however many calls that takes. */
    private void sendAll(MemorySegment bytes, long length, int flags) throws IOException {
        for (long sent = 0; sent < length; ) {
            sent += done(send(sent == 0 ? bytes : bytes.asSlice(sent), length - sent, flags), "send");
        }
    }

    /** sendfile(2) from {@link #offset}. */
    private void sendFile(int file, long count) throws IOException {
        for (long left = count; left > 0; ) {
            left -= moved(sendfile(file, left), "sendfile", offset.get(JAVA_LONG, 0));
        }
    }

    /** File to pipe, pipe to socket, a pipe-full at a time, from {@link #offset}. */
    private void throughPipe(int file, long count) throws IOException {
        if (pipeIn < 0) {
            openPipe();
        }
        for (long left = count; left > 0; ) {
            long inPipe = moved(splice(file, offset, pipeIn, left, SPLICE_F_MOVE), "splice from the image file",
                    offset.get(JAVA_LONG, 0));
            left -= inPipe;
            int flags = SPLICE_F_MOVE | (left > 0 ? SPLICE_F_MORE : 0);
            while (inPipe > 0) {
                inPipe -= done(splice(pipeOut, MemorySegment.NULL, socket, inPipe, flags), "splice to the socket");
            }
        }
    }

    // The calls on the reply path, one each: what invokeExact can throw besides is a bug in the call's description.

    private long send(MemorySegment bytes, long length, int flags) throws IOException {
        try {
            return (long) SEND.invokeExact(state, socket, bytes, length, MSG_NOSIGNAL | flags);
        } catch (Throwable e) {
            throw failed("send", e);
        }
    }

    private long sendfile(int file, long count) throws IOException {
        try {
            return (long) SENDFILE.invokeExact(state, socket, file, offset, count);
        } catch (Throwable e) {
            throw failed("sendfile", e);
        }
    }

    private long splice(int in, MemorySegment inOffset, int out, long length, int flags) throws IOException {
        try {
            return (long) SPLICE.invokeExact(state, in, inOffset, out, MemorySegment.NULL, length, flags);
        } catch (Throwable e) {
            throw failed("splice", e);
        }
    }

    private long pread(int file, MemorySegment into, long length, long at) throws IOException {
        try {
            return (long) PREAD.invokeExact(state, file, into, length, at);
        } catch (Throwable e) {
            throw failed("pread", e);
        }
    }

    private static IOException failed(String call, Throwable e) {
        return new IOException(call + " failed: " + e, e);
    }

    /** The calls off the common path (the pipe and its size, a wait for room, a close), through one wrapper. */
    private interface NativeCall {
        long invoke() throws Throwable;
    }

    private static long call(String name, NativeCall call) throws IOException {
        try {
            return call.invoke();
        } catch (Throwable e) {
            throw failed(name, e);
        }
    }

    private void openPipe() throws IOException {
        if (call("pipe2", () -> (int) PIPE2.invokeExact(state, pipeEnds, O_CLOEXEC)) != 0) {
            throw new IOException("pipe2 failed: " + Errno.describe((int) ERRNO.get(state, 0L)));
        }
        pipeOut = pipeEnds.get(JAVA_INT, 0);
        pipeIn = pipeEnds.get(JAVA_INT, 4);
        // Refused (a lower pipe-max-size, or the user's pipe quota spent): the default size works, in more steps.
        call("fcntl", () -> (int) FCNTL.invokeExact(state, pipeIn, F_SETPIPE_SZ, PIPE_BYTES));
    }

    /**
     * Like {@link #done}, for a call reading the image file from byte {@code at}: 0 bytes there means the file ended
     * early, at that byte.
     */
    private long moved(long n, String call, long at) throws IOException {
        if (n == 0) {
            throw new IOException("the image file ends at byte " + at + ", before its export does");
        }
        return done(n, call);
    }

    /**
     * The bytes a call sent: 0 when it is to be made again (interrupted by a signal, or the socket would block and
     * has room now); throws when the connection is lost.
     */
    private long done(long n, String call) throws IOException {
        if (n >= 0) {
            return n;
        }
        int errno = (int) ERRNO.get(state, 0L);
        if (errno == EAGAIN) {
            waitForRoom();
        } else if (errno != EINTR) {
            throw new IOException(call + " failed: " + Errno.describe(errno));
        }
        return 0;
    }

    /** A socket that is non-blocking after all (EAGAIN): wait in poll(2) until it takes bytes again. */
    private void waitForRoom() throws IOException {
        pollFd.set(JAVA_INT, 0, socket);
        pollFd.set(JAVA_SHORT, 4, POLLOUT);
        pollFd.set(JAVA_SHORT, 6, (short) 0);
        long rc = call("poll", () -> (int) POLL.invokeExact(state, pollFd, 1L, 1000));
        if (rc < 0 && (int) ERRNO.get(state, 0L) != EINTR) {
            throw new IOException("poll failed: " + Errno.describe((int) ERRNO.get(state, 0L)));
        }
    }

    @Override
    public void close() {
        for (int end : new int[] {pipeIn, pipeOut}) {
            if (end >= 0) {
                try {
                    call("close", () -> (int) CLOSE.invokeExact(state, end));
                } catch (IOException ignored) {
                    // a pipe of this connection's own: nothing else holds it
                }
            }
        }
        arena.close();
    }

    @SuppressWarnings("restricted") // native access is what this class is for
    private static MethodHandle downcall(String name, FunctionDescriptor descriptor, Linker.Option... more) {
        Linker.Option[] options = Arrays.copyOf(more, more.length + 1);
        options[more.length] = Linker.Option.captureCallState("errno");
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor, options);
    }

    /** The few errno values a send can end with, by name; others by number. */
    private static final class Errno {
        static String describe(int errno) {
            return switch (errno) {
                case 32 -> "EPIPE (the connection was shut down)";
                case 104 -> "ECONNRESET (the client reset the connection)";
                case 9 -> "EBADF (the connection was closed)";
                case 110 -> "ETIMEDOUT";
                case 5 -> "EIO (the image file could not be read)";
                default -> "errno " + errno;
            };
        }
    }
}
