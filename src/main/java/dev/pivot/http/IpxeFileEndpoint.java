package dev.pivot.http;

import dev.pivot.loaders.Routes;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * {@code GET /ipxe/<file>}: the distro's iPXE binaries, for UEFI HTTP Boot clients that take a URL, and the first
 * loaders Pivot builds itself (GRUB for arm64) from a second directory.
 */
final class IpxeFileEndpoint {

    private static final Logger log = LoggerFactory.getLogger(IpxeFileEndpoint.class);
    /** One plain file name: no separators, no leading dot, so nothing outside the directory can be named. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._\\-]*");

    private final Path dir;
    private final Optional<Path> loaderDir;
    private final ByteBufferPool pool;
    private final BodyBytes counted;

    IpxeFileEndpoint(Path dir, ByteBufferPool pool, BodyBytes counted) {
        this(dir, Optional.empty(), pool, counted);
    }

    IpxeFileEndpoint(Path dir, Optional<Path> loaderDir, ByteBufferPool pool, BodyBytes counted) {
        this.dir = dir.toAbsolutePath().normalize();
        this.loaderDir = loaderDir.map(d -> d.toAbsolutePath().normalize());
        this.pool = pool;
        this.counted = counted;
    }

    void serve(Request request, Response response, String path) throws IOException {
        String name = path.substring(Routes.IPXE_FILES.length());
        if (!NAME.matcher(name).matches()) {
            throw new BadRequest("bad iPXE file name '" + ReportEndpoint.printable(name) + "'");
        }
        Path file = dir.resolve(name).normalize();
        if (loaderDir.isPresent() && !Files.isRegularFile(file)) {
            file = loaderDir.get().resolve(name).normalize();
        }
        if (!(file.getParent().equals(dir) || loaderDir.filter(file.getParent()::equals).isPresent())
                || !Files.isRegularFile(file)) {
            log.warn("HTTP 404 /ipxe/{} (not in {}) asked by {}", name, dir, Request.getRemoteAddr(request));
            Replies.text(request, response, HttpStatus.NOT_FOUND_404, "no iPXE file " + name + " in " + dir + "\n");
            return;
        }
        long size = Files.size(file);
        long mtime = Files.getLastModifiedTime(file).toMillis();
        // Distro files change on package upgrades: a size+mtime validator, and revalidation instead of caching.
        String etag = "\"" + Long.toHexString(size) + "-" + Long.toHexString(mtime) + "\"";
        String type = name.endsWith(".efi") ? "application/efi" : "application/octet-stream";
        var served = new FileReply.ServedFile(file, size, type, etag, mtime, "no-cache");
        FileReply.Sent sent = FileReply.send(request, response, served, pool, counted);
        log.info("HTTP {} /ipxe/{} to {}: {} bytes", sent.status(), name, Request.getRemoteAddr(request), sent.sent());
        if (sent.failure() != null) {
            throw sent.failure();
        }
    }
}
