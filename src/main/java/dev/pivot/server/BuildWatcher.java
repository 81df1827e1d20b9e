package dev.pivot.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/**
 * Follows each profile's build path — `./result` as `nix build` replaces it — and hands a changed build to the
 * importer on this watcher's own thread, never a protocol thread. It watches the link's directory (a new link) and
 * the build directory (files replaced in place) with inotify, and looks again every few seconds in case a file
 * system sends no events. A change is imported once it has stood still for {@link #QUIET_MILLIS} (a build still
 * being written is not imported half-done); a refused build is not tried again until it changes.
 */
final class BuildWatcher implements AutoCloseable {

    /** A profile and the path its builds appear at. */
    record Watched(String profile, Path path) {
    }

    private static final Logger log = LoggerFactory.getLogger(BuildWatcher.class);
    static final long QUIET_MILLIS = 1_000;
    private static final long LOOK_AGAIN_SECONDS = 3;

    private final List<Watched> watched;
    private final BiConsumer<String, Path> importer;
    private final Map<Watched, String> seen = new HashMap<>();
    private final Map<Watched, WatchKey> targetKeys = new HashMap<>();
    private final WatchService events;
    private final Thread thread;
    private volatile boolean closing;

    BuildWatcher(List<Watched> watched, BiConsumer<String, Path> importer) throws IOException {
        this.watched = List.copyOf(watched);
        this.importer = importer;
        this.events = FileSystems.getDefault().newWatchService();
        for (Watched w : this.watched) {
            seen.put(w, fingerprint(w.path()));
            Path parent = w.path().toAbsolutePath().getParent();
            if (parent != null) {
                register(parent);
            }
            watchTarget(w);
        }
        this.thread = Thread.ofPlatform().daemon().name("pivot-build-watcher").unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    private void run() {
        while (!closing) {
            try {
                WatchKey key = events.poll(LOOK_AGAIN_SECONDS, TimeUnit.SECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
                for (Watched w : watched) {
                    lookAt(w);
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("watching builds: {}", e.toString());
            }
        }
    }

    private void lookAt(Watched w) throws InterruptedException {
        String now = fingerprint(w.path());
        if (now.equals(seen.get(w))) {
            return;
        }
        // Wait until the build stands still: a result being replaced, files still being copied.
        while (!closing) {
            Thread.sleep(QUIET_MILLIS);
            String later = fingerprint(w.path());
            if (later.equals(now)) {
                break;
            }
            now = later;
        }
        if (closing) {
            return;
        }
        seen.put(w, now);
        watchTarget(w);
        if (now.isEmpty()) {
            log.warn("profile {}: {} is gone; its generations stay as they are", w.profile(), w.path());
            return;
        }
        importer.accept(w.profile(), w.path());
    }

    /** Where the path leads and each file there (name, size, time): what changes when the build does. */
    static String fingerprint(Path path) {
        try {
            Path real = path.toRealPath();
            StringBuilder s = new StringBuilder(real.toString());
            Map<String, String> files = new TreeMap<>();
            try (Stream<Path> list = Files.list(real)) {
                for (Path p : (Iterable<Path>) list::iterator) {
                    if (Files.isRegularFile(p)) {
                        files.put(p.getFileName().toString(), Files.size(p) + "@" + Files.getLastModifiedTime(p));
                    }
                }
            }
            files.forEach((name, what) -> s.append('\n').append(name).append(' ').append(what));
            return s.toString();
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private void watchTarget(Watched w) {
        WatchKey old = targetKeys.remove(w);
        if (old != null) {
            old.cancel();
        }
        try {
            targetKeys.put(w, register(w.path().toRealPath()));
        } catch (IOException e) {
            log.debug("cannot watch {}: {}", w.path(), e.getMessage());
        }
    }

    private WatchKey register(Path dir) {
        try {
            return dir.register(events, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException e) {
            // A read-only store path cannot always be watched; the periodic look covers it.
            log.debug("cannot watch {}: {}", dir, e.getMessage());
            return null;
        }
    }

    @Override
    public void close() {
        closing = true;
        thread.interrupt();
        try {
            events.close();
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (IOException | InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
