package dev.pivot.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Checks the free space of the state directory's file system every half minute and warns before it fills (the
 * event log and the lease journal live there): once when it falls under the threshold, once when it is back.
 * When it does fill, the store and the pipeline recover by themselves once space is freed; this warns first.
 */
final class DiskSpaceWatch implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DiskSpaceWatch.class);
    /** Warn under this many bytes free, or under this share of the file system, whichever is larger. */
    private static final long MIN_FREE_BYTES = 256L << 20;
    private static final double MIN_FREE_SHARE = 0.05;

    /** The bytes to keep free on a file system of {@code total} bytes: under it, the state directory is low. */
    static long reserve(long total) {
        return Math.max(MIN_FREE_BYTES, (long) (total * MIN_FREE_SHARE));
    }

    private final Path dir;
    private final ScheduledExecutorService timer;
    private volatile long free = -1;
    private boolean low;

    DiskSpaceWatch(Path dir, Duration every) {
        this.dir = dir;
        this.timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("pivot-disk-space").factory());
        timer.scheduleWithFixedDelay(this::check, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Bytes free for the server in the state directory's file system at the last check; -1 before one. */
    long freeBytes() {
        return free;
    }

    private void check() {
        try {
            FileStore store = Files.getFileStore(dir);
            long usable = store.getUsableSpace();
            long total = store.getTotalSpace();
            free = usable;
            boolean nowLow = usable < reserve(total);
            if (nowLow && !low) {
                log.warn("state directory {}: only {} MiB of {} MiB free; when it is full, boot events are lost and"
                        + " leases cannot be recorded until space is freed", dir, usable >> 20, total >> 20);
            } else if (!nowLow && low) {
                log.info("state directory {}: {} MiB free again", dir, usable >> 20);
            }
            low = nowLow;
        } catch (IOException | RuntimeException e) {
            log.warn("state directory {}: cannot check free space: {}", dir, e.toString());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
