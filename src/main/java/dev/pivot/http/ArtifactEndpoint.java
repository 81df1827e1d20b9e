package dev.pivot.http;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;
import dev.pivot.loaders.Routes;
import dev.pivot.boot.ArtifactSource;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code GET|HEAD /artifacts/<sha256>/<name>}: content-addressed bytes. The name is only for humans and for the
 * image name iPXE derives from the URL; the sha alone selects the bytes, so they never change and can be cached
 * forever.
 */
final class ArtifactEndpoint {

    private static final Logger log = LoggerFactory.getLogger(ArtifactEndpoint.class);
    static final Pattern PATH = Pattern.compile(Pattern.quote(Routes.ARTIFACTS) + "([0-9a-f]{64})/([^/]+)");
    static final String CACHE_FOREVER = "public, max-age=31536000, immutable";

    private final ArtifactSource artifacts;
    private final BootCatalog catalog;
    private final Machines machines;
    private final ByteBufferPool pool;
    private final BodyBytes counted;
    private final java.util.concurrent.atomic.LongAdder anonymous = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder anonymousBytes = new java.util.concurrent.atomic.LongAdder();

    ArtifactEndpoint(ArtifactSource artifacts, BootCatalog catalog, Machines machines, ByteBufferPool pool,
                     BodyBytes counted) {
        this.artifacts = artifacts;
        this.catalog = catalog;
        this.machines = machines;
        this.pool = pool;
        this.counted = counted;
    }

    /** Artifact downloads by no known machine since start. */
    long anonymousDownloads() {
        return anonymous.sum();
    }

    /** Their body bytes. */
    long anonymousBytes() {
        return anonymousBytes.sum();
    }

    void serve(Request request, Response response, String path) throws IOException {
        Matcher m = PATH.matcher(path);
        if (!m.matches()) {
            Replies.text(request, response, HttpStatus.NOT_FOUND_404,
                    "not an artifact path (want /artifacts/<sha256>/<name>): " + path + "\n");
            return;
        }
        Optional<MacAddress> mac = machines.macOf(request);
        Optional<Artifact> found = artifacts.find(m.group(1));
        if (found.isEmpty()) {
            log.warn("HTTP 404 unknown artifact {} asked by {}", m.group(1), machines.describe(request, mac));
            Replies.text(request, response, HttpStatus.NOT_FOUND_404, "unknown artifact " + m.group(1) + "\n");
            return;
        }
        Artifact artifact = found.get();
        Path file = artifacts.path(artifact);
        long onDisk;
        long mtime;
        try {
            onDisk = Files.size(file);
            mtime = Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            // The store lost a file it lists: a server fault (500), not a client that went away.
            throw new UncheckedIOException("artifact " + artifact.sha256() + ": cannot read " + file + ": " + e, e);
        }
        if (onDisk != artifact.size()) {
            throw new IllegalStateException("artifact " + artifact.sha256() + " is " + artifact.size()
                    + " bytes but " + file + " holds " + onDisk);
        }
        var served = new FileReply.ServedFile(file, artifact.size(), "application/octet-stream",
                "\"" + artifact.sha256() + "\"", mtime, CACHE_FOREVER);
        FileReply.Sent sent = FileReply.send(request, response, served, pool, counted);
        if (!Replies.isHead(request) && (sent.status() == HttpStatus.OK_200
                || sent.status() == HttpStatus.PARTIAL_CONTENT_206)) {
            if (mac.isPresent()) {
                report(request, mac.get(), artifact, sent);
            } else {
                // No machine to put it on a timeline (curl, a mirror, a client without ?mac=): still counted.
                anonymous.increment();
                anonymousBytes.add(sent.sent());
            }
        }
        if (sent.failure() != null) {
            throw sent.failure();
        }
    }

    private void report(Request request, MacAddress mac, Artifact artifact, FileReply.Sent sent) {
        // By the catalog's specs in memory when it lists them: no store read per download in a boot storm.
        Optional<Step> step = catalog.allSpecs().isEmpty()
                ? catalog.specFor(mac).flatMap(spec -> stepOf(spec, artifact))
                : catalog.allSpecs().stream().flatMap(spec -> stepOf(spec, artifact).stream()).findFirst();
        if (step.isEmpty()) {
            log.debug("artifact {} is not part of the spec of {}: no event", artifact.name(), mac);
            return;
        }
        String what = artifact.name() + (sent.range() instanceof ByteRange.Part p
                ? " " + p.contentRange(artifact.size()) : "");
        BootEvent event = sent.complete()
                ? BootEvent.ok(mac, step.get(), what, sent.sent())
                : new BootEvent(Instant.now(), mac, step.get(), true,
                what + ": client closed after " + sent.sent() + " of " + sent.planned() + " bytes", sent.sent());
        log.info("HTTP {} {} {} to {}: {} bytes{}{}", sent.status(), step.get(), what, mac, sent.sent(),
                sent.zeroCopy() ? " (sendfile)" : "", sent.complete() ? "" : " (client closed early)");
        machines.emit(request, event.withFile(artifact.name()));
    }

    /** Which boot step fetching this artifact is, for this machine's spec. */
    static Optional<Step> stepOf(BootSpec spec, Artifact artifact) {
        String sha = artifact.sha256();
        if (spec.kernel().sha256().equals(sha)) {
            return Optional.of(Step.KERNEL);
        }
        if (spec.rootBoot().filter(r -> r.rootImage().sha256().equals(sha)).isPresent()) {
            return Optional.of(Step.ROOT_IMAGE);
        }
        if (spec.initrds().stream().anyMatch(i -> i.sha256().equals(sha))) {
            return Optional.of(Step.INITRD);
        }
        return Optional.empty();
    }
}
