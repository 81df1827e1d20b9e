package dev.pivot.http;

import org.eclipse.jetty.http.DateGenerator;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.RetainableByteBuffer;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Sends a file with validators, conditional requests and single byte ranges.
 *
 * <p>Pivot streams files itself rather than using Jetty's ResourceHandler: that handler's file mapping
 * ({@code ResourceHandler.setUseFileMapping}, backed by {@code FileMappingHttpContentFactory}) maps files into
 * {@code MappedByteBuffer}s, whose int positions break ranges past 2 GiB. Here every offset is a long, so root
 * images over 4 GiB and ranges anywhere in them work.
 *
 * <p>The body goes out zero-copy when the connection is a plain socket of Pivot's own connector
 * ({@link SendfileEndPoint}: {@code sendfile} from the page cache); otherwise (a wrapped endpoint, such as TLS
 * would be) with positional {@link FileChannel} reads into one pooled buffer per transfer.
 */
final class FileReply {

    private static final int CHUNK = 128 * 1024;

    /** What to send: the file, its size and how to describe it. */
    record ServedFile(Path path, long size, String contentType, String etag, long lastModifiedMillis,
                      String cacheControl) {
    }

    /**
     * What happened: the status sent, the bytes the body should have had, the bytes that went out, and the
     * write failure when the client went away early (null otherwise).
     */
    record Sent(int status, ByteRange range, long planned, long sent, IOException failure, boolean zeroCopy) {
        Sent(int status, ByteRange range) {
            this(status, range, 0, 0, null, false);
        }

        boolean complete() {
            return failure == null && sent == planned;
        }
    }

    private FileReply() {
    }

    static Sent send(Request request, Response response, ServedFile file, ByteBufferPool pool, BodyBytes counted)
            throws IOException {
        var headers = response.getHeaders();
        var requestHeaders = request.getHeaders();
        headers.put(HttpHeader.ACCEPT_RANGES, "bytes");
        headers.put(HttpHeader.ETAG, file.etag());
        headers.put(HttpHeader.LAST_MODIFIED, DateGenerator.formatDate(file.lastModifiedMillis()));
        headers.put(HttpHeader.CACHE_CONTROL, file.cacheControl());
        long lastModifiedSeconds = file.lastModifiedMillis() / 1000;

        switch (Preconditions.evaluate(requestHeaders.get(HttpHeader.IF_MATCH),
                requestHeaders.get(HttpHeader.IF_UNMODIFIED_SINCE), requestHeaders.get(HttpHeader.IF_NONE_MATCH),
                requestHeaders.get(HttpHeader.IF_MODIFIED_SINCE), file.etag(), lastModifiedSeconds)) {
            case NOT_MODIFIED -> {
                response.setStatus(HttpStatus.NOT_MODIFIED_304);
                // RFC 9110 §8.6: a 304 may carry Content-Length only as the size a 200 would have had.
                headers.put(HttpHeader.CONTENT_LENGTH, file.size());
                Replies.write(response, true, null);
                return new Sent(HttpStatus.NOT_MODIFIED_304, new ByteRange.Whole());
            }
            case PRECONDITION_FAILED -> {
                Replies.text(request, response, HttpStatus.PRECONDITION_FAILED_412, "precondition failed\n");
                return new Sent(HttpStatus.PRECONDITION_FAILED_412, new ByteRange.Whole());
            }
            case PROCEED -> {
            }
        }

        ByteRange range = Preconditions.rangeStillValid(requestHeaders.get(HttpHeader.IF_RANGE), file.etag(),
                lastModifiedSeconds)
                ? ByteRange.parse(requestHeaders.get(HttpHeader.RANGE), file.size())
                : new ByteRange.Whole();
        long first;
        long length;
        int status;
        switch (range) {
            case ByteRange.Unsatisfiable u -> {
                response.setStatus(HttpStatus.RANGE_NOT_SATISFIABLE_416);
                headers.put(HttpHeader.CONTENT_RANGE, "bytes */" + file.size());
                headers.put(HttpHeader.CONTENT_LENGTH, 0);
                Replies.write(response, true, null);
                return new Sent(HttpStatus.RANGE_NOT_SATISFIABLE_416, range);
            }
            case ByteRange.Part part -> {
                status = HttpStatus.PARTIAL_CONTENT_206;
                headers.put(HttpHeader.CONTENT_RANGE, part.contentRange(file.size()));
                first = part.first();
                length = part.length();
            }
            case ByteRange.Whole w -> {
                status = HttpStatus.OK_200;
                first = 0;
                length = file.size();
            }
        }
        response.setStatus(status);
        headers.put(HttpHeader.CONTENT_TYPE, file.contentType());
        headers.put(HttpHeader.CONTENT_LENGTH, length);
        if (Replies.isHead(request)) {
            Replies.write(response, true, null);
            return new Sent(status, range);
        }
        Sent sent = stream(request, response, file.path(), first, length, pool, status, range);
        counted.add(sent.zeroCopy(), sent.sent());
        return sent;
    }

    private static Sent stream(Request request, Response response, Path path, long first, long length,
                               ByteBufferPool pool, int status, ByteRange range) throws IOException {
        if (length == 0) {
            Replies.write(response, true, null);
            return new Sent(status, range);
        }
        try (FileChannel channel = open(path)) {
            SendfileEndPoint direct = SendfileEndPoint.of(request);
            if (direct != null) {
                // sendfile cannot tell "file too short" from "socket full": check the length before the first byte.
                long size = size(channel, path);
                if (size < first + length) {
                    throw new IllegalStateException(path + " ended at byte " + size + ", expected " + (first + length));
                }
                return sendfile(response, direct, channel, first, length, status, range);
            }
            return copy(response, channel, path, first, length, pool, status, range);
        }
    }

    /** One blocking Jetty write per region; the endpoint sends the file's bytes in place of the placeholder. */
    private static Sent sendfile(Response response, SendfileEndPoint direct, FileChannel channel, long first,
                                 long length, int status, ByteRange range) {
        long sent = 0;
        while (sent < length) {
            int chunk = (int) Math.min(SendfileEndPoint.MAX_REGION, length - sent);
            SendfileEndPoint.Region region = direct.stage(channel, first + sent, chunk);
            try {
                Replies.write(response, sent + chunk == length, region.placeholder());
            } catch (IOException clientGone) {
                return new Sent(status, range, length, sent + region.transferred(), clientGone, true);
            } finally {
                direct.unstage(region);
            }
            sent += chunk;
        }
        return new Sent(status, range, length, sent, null, true);
    }

    private static Sent copy(Response response, FileChannel channel, Path path, long first, long length,
                             ByteBufferPool pool, int status, ByteRange range) {
        long sent = 0;
        RetainableByteBuffer pooled = pool.acquire((int) Math.min(CHUNK, length), true);
        try {
            ByteBuffer buffer = pooled.getByteBuffer();
            long position = first;
            while (sent < length) {
                buffer.clear();
                buffer.limit((int) Math.min(buffer.capacity(), length - sent));
                int read = read(channel, buffer, position, path);
                if (read < 0) {
                    // The store promises immutable files; a shorter file is a broken store, not a client problem.
                    throw new IllegalStateException(path + " ended at byte " + position + ", expected "
                            + (first + length));
                }
                buffer.flip();
                try {
                    Replies.write(response, sent + read == length, buffer);
                } catch (IOException clientGone) {
                    return new Sent(status, range, length, sent, clientGone, false);
                }
                sent += read;
                position += read;
            }
        } finally {
            pooled.release();
        }
        return new Sent(status, range, length, sent, null, false);
    }

    /*
     * A failing disk is the server's problem (500 and a log line), unlike an IOException from a write, which means
     * the client went away: file errors therefore leave here unchecked.
     */
    private static FileChannel open(Path path) {
        try {
            return FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + path + ": " + e.getMessage(), e);
        }
    }

    private static long size(FileChannel channel, Path path) {
        try {
            return channel.size();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stat " + path + ": " + e.getMessage(), e);
        }
    }

    private static int read(FileChannel channel, ByteBuffer buffer, long position, Path path) {
        try {
            return channel.read(buffer, position);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + path + " at byte " + position + ": " + e.getMessage(), e);
        }
    }
}
