package dev.pivot.http;

import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.thread.Scheduler;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.Arrays;

/**
 * A plain-TCP endpoint that can send a file region with {@link FileChannel#transferTo} (Linux {@code sendfile}):
 * the page-cache pages go into the socket without passing through user space.
 *
 * <p>Jetty's {@code Response.write} takes only ByteBuffers, counts the body against Content-Length and hands the
 * buffer, untouched, down to this endpoint's {@link #flush}. So a region is written as a <em>placeholder</em>: a
 * buffer whose {@code remaining()} is the region's length. Jetty counts it, sequences it after the headers, waits
 * for writability through its own WriteFlusher and selector when the socket is full, and keeps the connection
 * alive afterwards exactly as for any body; only the bytes come from the file. The placeholder's own contents
 * (zeros) are never read: {@link #flush} recognises it by identity and sends the file instead.
 *
 * <p>{@code transferTo} into a socket is {@code sendfile} on Linux for regular files; the JDK would fall back to
 * mapping the file only if the kernel refused sendfile for it (EINVAL), which Pivot's store on a local file system
 * does not meet.
 *
 * <p>One region at a time per connection: HTTP/1.1 writes one response at a time, and {@link FileReply} stages a
 * region, writes its placeholder blocking, and clears it before the next.
 */
final class SendfileEndPoint extends SocketChannelEndPoint {

    /**
     * The largest region per placeholder. Each region is one blocking Jetty write (one wake-up of the request's
     * thread), so larger means fewer hand-offs; the placeholders share one read-only zero buffer of this size.
     */
    static final int MAX_REGION = 16 << 20;
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(MAX_REGION).asReadOnlyBuffer();

    /** A file region in flight: where the next byte comes from, and the placeholder Jetty is writing. */
    static final class Region {
        private final FileChannel file;
        private final ByteBuffer placeholder;
        private long position;
        private volatile long transferred;

        private Region(FileChannel file, long position, int length) {
            this.file = file;
            this.position = position;
            this.placeholder = ZEROS.duplicate().position(0).limit(length);
        }

        /** What to pass to {@code Response.write}: it stands for the region's bytes. */
        ByteBuffer placeholder() {
            return placeholder;
        }

        /** Bytes the socket has taken so far. */
        long transferred() {
            return transferred;
        }
    }

    // Set by the request's thread before its write; read by whichever thread flushes (the request's thread first,
    // then the selector's when the socket was full). The WriteFlusher's own state changes order the two.
    private volatile Region region;

    SendfileEndPoint(SocketChannel channel, ManagedSelector selector, SelectionKey key, Scheduler scheduler) {
        super(channel, selector, key, scheduler);
    }

    /** The request's own endpoint if it can send files directly; null when Jetty put something in between. */
    static SendfileEndPoint of(Request request) {
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        return endPoint instanceof SendfileEndPoint direct ? direct : null;
    }

    /** Makes LENGTH bytes of FILE from POSITION the next placeholder this endpoint will send. */
    Region stage(FileChannel file, long position, int length) {
        if (length <= 0 || length > MAX_REGION) {
            throw new IllegalArgumentException("region length " + length);
        }
        if (region != null) {
            throw new IllegalStateException("a file region is already being sent on " + this);
        }
        Region staged = new Region(file, position, length);
        region = staged;
        return staged;
    }

    /** After the placeholder's write has completed or failed: nothing of it is flushed any more. */
    void unstage(Region staged) {
        if (region == staged) {
            region = null;
        }
    }

    @Override
    public boolean flush(ByteBuffer... buffers) throws IOException {
        Region current = region;
        int at = current == null ? -1 : indexOf(buffers, current.placeholder);
        if (at < 0) {
            return super.flush(buffers);
        }
        // Jetty hands the headers (and chunk framing, never used with Content-Length) before the body.
        if (at > 0 && hasContent(buffers, 0, at) && !super.flush(Arrays.copyOfRange(buffers, 0, at))) {
            return false;
        }
        if (!transfer(current)) {
            return false;
        }
        return at + 1 == buffers.length || !hasContent(buffers, at + 1, buffers.length)
                || super.flush(Arrays.copyOfRange(buffers, at + 1, buffers.length));
    }

    /**
     * Sends what the socket takes now; true when the region is done. Never waits: the socket is non-blocking, and
     * when it is full Jetty waits for OP_WRITE and calls {@link #flush} again.
     */
    private boolean transfer(Region current) throws IOException {
        ByteBuffer placeholder = current.placeholder;
        int wanted = placeholder.remaining();
        long n;
        try {
            n = current.file.transferTo(current.position, wanted, getChannel());
        } catch (IOException e) {
            throw new EofException(e); // the client went away, as for any failed socket write
        }
        if (n == 0 && current.file.size() < current.position + wanted) {
            // Past the end transferTo returns 0, as for a full socket: without this, waiting for writability would
            // come straight back here, forever. The store's files never shrink; a broken store must not spin.
            throw new IOException("file shrank to " + current.file.size() + " bytes while being sent");
        }
        if (n > 0) {
            notIdle();
            current.position += n;
            placeholder.position(placeholder.position() + (int) n);
            current.transferred += n;
        }
        // sendfile stops only when the socket buffer is full: asking again now would just return EAGAIN.
        return n == wanted;
    }

    private static int indexOf(ByteBuffer[] buffers, ByteBuffer placeholder) {
        for (int i = 0; i < buffers.length; i++) {
            if (buffers[i] == placeholder) {
                return i;
            }
        }
        return -1;
    }

    private static boolean hasContent(ByteBuffer[] buffers, int from, int to) {
        for (int i = from; i < to; i++) {
            if (buffers[i] != null && buffers[i].hasRemaining()) {
                return true;
            }
        }
        return false;
    }
}
