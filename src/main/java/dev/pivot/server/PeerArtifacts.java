package dev.pivot.server;

import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import dev.pivot.loaders.Routes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A generation another server sharing the database recorded, whose build this server never imported: its artifacts
 * are fetched from a live server that has them, by sha256 (the store refuses bytes of another sha256 or size), one
 * at a time on a thread of their own, so that the generation is served here too once they are all in.
 */
final class PeerArtifacts implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PeerArtifacts.class);
    private static final Duration CONNECT = Duration.ofSeconds(5);
    /** The longest a download may go without a byte before it is given up (and tried again after a later beat). */
    private static final Duration SILENT = Duration.ofSeconds(30);
    /** An artifact no peer gave is asked for again only this long after (not after every beat). */
    static final Duration RETRY_AFTER = Duration.ofSeconds(30);

    private final ArtifactStore artifacts;
    private final ExecutorService fetching = Executors.newSingleThreadExecutor(
            Thread.ofVirtual().name("pivot-peer-artifacts").factory());
    private final AtomicBoolean busy = new AtomicBoolean();
    /** What was said once already (an artifact no peer has, a peer that fails): not repeated every beat. */
    private final Set<String> said = ConcurrentHashMap.newKeySet();
    /** When each artifact that no peer gave was last asked for (System.nanoTime). */
    private final java.util.Map<String, Long> failedAt = new ConcurrentHashMap<>();
    private final Counts counts = new Counts();

    /** What the fetches came to, for the metrics: each artifact's try counts once, whichever peers it asked. */
    static final class Counts {
        final AtomicLong fetched = new AtomicLong();
        final AtomicLong fetchedBytes = new AtomicLong();
        /** Tries at an artifact that no live peer gave (404, wrong bytes, no answer). */
        final AtomicLong failed = new AtomicLong();
        /** Tries at an artifact not made because it would leave less than the state directory's reserve free. */
        final AtomicLong noRoom = new AtomicLong();
    }

    PeerArtifacts(ArtifactStore artifacts) {
        this.artifacts = artifacts;
    }

    /**
     * Starts fetching those of {@code wanted} this server lacks from the first of {@code peers} (base URLs) that has
     * each, unless a fetch is under way (the next call, after the next beat, takes up what is still missing).
     */
    void fetchMissing(List<Artifact> wanted, List<String> peers) {
        long now = System.nanoTime();
        List<Artifact> missing = wanted.stream().filter(a -> artifacts.find(a.sha256()).isEmpty())
                .filter(a -> due(a, now))
                .collect(java.util.stream.Collectors.toCollection(LinkedHashSet::new)).stream().toList();
        if (missing.isEmpty() || peers.isEmpty() || !busy.compareAndSet(false, true)) {
            return;
        }
        try {
            fetching.execute(() -> {
                try {
                    missing.forEach(a -> fetchFromAny(a, peers));
                } finally {
                    busy.set(false);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            busy.set(false);
        }
    }

    Counts counts() {
        return counts;
    }

    /** Whether a fetch is under way (tests wait for it to end). */
    boolean underWay() {
        return busy.get();
    }

    private boolean due(Artifact a, long now) {
        Long at = failedAt.get(a.sha256());
        return at == null || now - at >= RETRY_AFTER.toNanos();
    }

    private void fetchFromAny(Artifact a, List<String> peers) {
        if (!roomFor(a)) {
            return;
        }
        for (String peer : peers) {
            if (Thread.currentThread().isInterrupted()) {
                return;
            }
            String url = Routes.artifact(peer, a);
            long started = System.nanoTime();
            HttpURLConnection c = null;
            try {
                c = (HttpURLConnection) URI.create(url).toURL().openConnection();
                c.setConnectTimeout((int) CONNECT.toMillis());
                c.setReadTimeout((int) SILENT.toMillis());
                c.setInstanceFollowRedirects(false);
                int status = c.getResponseCode();
                if (status != 200) {
                    once(a.sha256() + peer + status, "{} {}: HTTP {}", a.name(), url, status);
                    continue;
                }
                try (InputStream body = c.getInputStream()) {
                    artifacts.putExpected(body, a);
                }
                log.info("fetched {} {} ({} bytes) from {} in {} ms, for a generation another server recorded",
                        a.name(), a.sha256(), a.size(), peer, (System.nanoTime() - started) / 1_000_000);
                failedAt.remove(a.sha256());
                counts.fetched.incrementAndGet();
                counts.fetchedBytes.addAndGet(a.size());
                return;
            } catch (IOException | RuntimeException e) {
                once(a.sha256() + peer + e.getClass(), "{} {}: {}", a.name(), url, e.toString());
            } finally {
                if (c != null) {
                    c.disconnect();
                }
            }
        }
        failedAt.put(a.sha256(), System.nanoTime());
        counts.failed.incrementAndGet();
        once(a.sha256(), "{} {}: no live server gave it; its generation is not served here (asked again every {} s)",
                a.name(), a.sha256(), RETRY_AFTER.toSeconds());
    }

    /**
     * Whether the artifact fits in the state directory's file system and leaves the reserve {@link DiskSpaceWatch}
     * warns under: a root image too large for the disk is not fetched (again and again) to fill it, which would stop
     * boot events and leases from being recorded.
     */
    private boolean roomFor(Artifact a) {
        try {
            java.nio.file.FileStore fs = java.nio.file.Files.getFileStore(artifacts.path(a).getParent());
            if (leavesReserve(a.size(), fs.getUsableSpace(), fs.getTotalSpace())) {
                return true;
            }
            failedAt.put(a.sha256(), System.nanoTime());
            counts.noRoom.incrementAndGet();
            once(a.sha256() + "room", "{} {} ({} MiB): not fetched, it would leave less than the state directory's"
                    + " reserve free ({} MiB free of {} MiB)", a.name(), a.sha256(), a.size() >> 20,
                    fs.getUsableSpace() >> 20, fs.getTotalSpace() >> 20);
            return false;
        } catch (IOException e) {
            once(a.sha256() + "room" + e.getClass(), "{}: cannot check free space: {}", a.name(), e.toString());
            return true;
        }
    }

    /** Whether {@code size} more bytes leave {@link DiskSpaceWatch}'s reserve free of {@code usable} of {@code total}. */
    static boolean leavesReserve(long size, long usable, long total) {
        return usable - size >= DiskSpaceWatch.reserve(total);
    }

    private void once(String key, String format, Object... args) {
        if (said.add(key)) {
            log.warn("peer artifacts: " + format, args);
        }
    }

    @Override
    public void close() {
        fetching.shutdownNow();
    }
}
