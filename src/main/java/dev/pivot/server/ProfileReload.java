package dev.pivot.server;

import dev.pivot.boot.BootSource;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.profiles.ProfilesFile;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * profiles.yaml read again when it changes (looked at every few seconds) or when asked (SIGHUP): new profiles and
 * profiles whose image changed are imported as their newest generation, then the groups and the default are
 * swapped in at once, so a machine booting meanwhile gets the old routing or the new one, never half of each. A
 * file that does not parse or names an unknown profile changes nothing, and says so in one line.
 */
final class ProfileReload implements AutoCloseable {

    static final Duration LOOK_EVERY = Duration.ofSeconds(2);

    private final Path file;
    private final ProfileCatalog catalog;
    private final ProfileSetup.ImagePreparer images;
    private final BuildImport builds;
    private final PrintStream out;
    private final Thread watcher;
    private volatile boolean running = true;
    private ProfilesFile current;
    private String seen;

    ProfileReload(Path file, ProfilesFile loaded, ProfileCatalog catalog, ProfileSetup.ImagePreparer images,
                  BuildImport builds, PrintStream out) {
        this.file = file;
        this.current = loaded;
        this.catalog = catalog;
        this.images = images;
        this.builds = builds;
        this.out = out;
        this.seen = stamp();
        this.watcher = Thread.ofPlatform().name("profiles-reload").daemon().unstarted(this::watch);
    }

    ProfileReload start() {
        watcher.start();
        return this;
    }

    private void watch() {
        while (running) {
            try {
                Thread.sleep(LOOK_EVERY);
            } catch (InterruptedException e) {
                return;
            }
            String now = stamp();
            if (!now.equals(seen)) {
                seen = now;
                reload();
            }
        }
    }

    /** The file's modification time and size: an editor's save changes one of them. */
    private String stamp() {
        try {
            return Files.getLastModifiedTime(file).toMillis() + "/" + Files.size(file);
        } catch (IOException e) {
            return "missing";
        }
    }

    /** Reads the file again and applies it; false (and one line) when it cannot be used. */
    synchronized boolean reload() {
        try {
            ProfilesFile next = ProfilesFile.parse(file);
            Map<BootSource, ServedImage> imported = new HashMap<>();
            for (ProfilesFile.Profile p : next.profiles().values()) {
                ProfilesFile.Profile before = current.profiles().get(p.name());
                if (before == null || !before.source().equals(p.source())) {
                    ProfileSetup.importProfile(p, images, builds, imported);
                } else {
                    builds.generations().extraArgs(p.name(), p.params());
                }
            }
            ProfileSetup.Routes routes = ProfileSetup.routes(Optional.of(next));
            catalog.reroute(routes.groupOf(), routes.selectors(), routes.defaultProfile(), routes.loaders());
            current = next;
            synchronized (out) {
                out.println("pivot: profiles reloaded from " + file);
                ProfileSetup.describe(next).forEach(line -> out.println("pivot:   " + line));
                out.flush();
            }
            return true;
        } catch (RuntimeException | IOException e) {
            synchronized (out) {
                out.println("pivot: " + file + " not reloaded, the profiles in use stay: " + e.getMessage());
                out.flush();
            }
            return false;
        }
    }

    @Override
    public void close() {
        running = false;
        watcher.interrupt();
    }
}
