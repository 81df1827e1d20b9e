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
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code GET /ipxe/<file>}: the distro's iPXE binaries, for UEFI HTTP Boot clients that take a URL, and the first
 * loaders Pivot builds or links itself from further directories (GRUB for arm64; shim and the signed GRUB, which
 * shim fetches from the same URL directory it was loaded from).
 */
final class IpxeFileEndpoint {

    private static final Logger log = LoggerFactory.getLogger(IpxeFileEndpoint.class);
    /** Files shim looks for beside itself and goes on without. */
    private static final Pattern SHIM_PROBES = Pattern.compile("revocations_[a-z]+\\.efi|shim_certificate_\\d+\\.efi");
    /** One plain file name: no separators, no leading dot, so nothing outside the directory can be named. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._\\-]*");
    /**
     * shim loaded by HTTP asks for the loader beside it as "/ipxe//grubx64.efi" (its "\\grubx64.efi" with the
     * separator turned into a slash): the one empty segment a path may have, directly after /ipxe/.
     */
    private static final String SHIM_EMPTY_SEGMENT = Routes.IPXE_FILES + "/";

    private final Path dir;
    private final List<Path> loaderDirs;
    private final ByteBufferPool pool;
    private final BodyBytes counted;

    IpxeFileEndpoint(Path dir, ByteBufferPool pool, BodyBytes counted) {
        this(dir, List.of(), pool, counted);
    }

    IpxeFileEndpoint(Path dir, List<Path> loaderDirs, ByteBufferPool pool, BodyBytes counted) {
        this.dir = dir.toAbsolutePath().normalize();
        this.loaderDirs = loaderDirs.stream().map(d -> d.toAbsolutePath().normalize()).toList();
        this.pool = pool;
        this.counted = counted;
    }

    /**
     * The path without shim's empty segment: any "//" left is an empty segment the router refuses, on every route
     * ({@link PivotHttpServer}), so the router and this endpoint cannot disagree on which one is allowed.
     */
    static String withoutShimEmptySegment(String path) {
        return path.startsWith(SHIM_EMPTY_SEGMENT) ? Routes.IPXE_FILES + path.substring(SHIM_EMPTY_SEGMENT.length())
                : path;
    }

    void serve(Request request, Response response, String path) throws IOException {
        String name = withoutShimEmptySegment(path).substring(Routes.IPXE_FILES.length());
        if (!NAME.matcher(name).matches()) {
            throw new BadRequest("bad iPXE file name '" + ReportEndpoint.printable(name) + "'");
        }
        Path file = dir.resolve(name).normalize();
        for (java.util.Iterator<Path> more = loaderDirs.iterator(); !Files.isRegularFile(file) && more.hasNext(); ) {
            file = more.next().resolve(name).normalize();
        }
        if (!(file.getParent().equals(dir) || loaderDirs.contains(file.getParent())) || !Files.isRegularFile(file)) {
            if (SHIM_PROBES.matcher(name).matches()) {
                log.debug("HTTP 404 /ipxe/{} (shim's optional file) asked by {}", name, Request.getRemoteAddr(request));
            } else {
                log.warn("HTTP 404 /ipxe/{} (not in {}) asked by {}", name, dir, Request.getRemoteAddr(request));
            }
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
