package dev.pivot.server;

import dev.pivot.boot.Assignments;
import dev.pivot.boot.GenerationStore;
import dev.pivot.boot.GroupSelector;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.MachineRepository;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.profiles.ProfilesFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * `pivot serve DIR [--profiles FILE]`: the served DIR is the profile "default" (unless the file defines its own);
 * machines no assignment or group covers boot the file's {@code default:}, else "default". Each profile's builds
 * are its generations: those stored before (a restart), then the build there now, and the paths to watch for
 * the next ones.
 */
final class ProfileSetup {

    static final String DIR_PROFILE = "default";

    private ProfileSetup() {
    }

    /** Imports and checks one profile's image as `pivot serve` does its DIR; empty when the check refuses it. */
    @FunctionalInterface
    interface ImagePreparer {
        Optional<ServedImage> prepare(Path imageDir) throws Exception;
    }

    /** The catalog, and each profile's build path for the {@link BuildWatcher}. */
    record Setup(ProfileCatalog catalog, List<BuildWatcher.Watched> watched) {
    }

    static Setup catalog(Optional<ProfilesFile> file, Path dir, ServedImage dirImage, ImagePreparer images,
                         BuildImport builds, Assignments assignments, MachineRepository machines,
                         Optional<GenerationStore> store) throws Exception {
        Map<MacAddress, ProfileCatalog.Choice> groupOf = new HashMap<>();
        List<GroupSelector> selectors = new ArrayList<>();
        List<BuildWatcher.Watched> watched = new ArrayList<>();
        Optional<String> dflt = Optional.of(DIR_PROFILE);
        boolean fileHasDirProfile = file.map(f -> f.profiles().containsKey(DIR_PROFILE)).orElse(false);
        if (!fileHasDirProfile) {
            if (dirImage != null) {
                adopt(builds, DIR_PROFILE, dir, dirImage);
            } // else: servesStoredGeneration loaded the stored ones
            watched.add(new BuildWatcher.Watched(DIR_PROFILE, dir));
        }
        if (file.isPresent()) {
            for (ProfilesFile.Profile p : file.get().profiles().values()) {
                ServedImage served;
                try {
                    served = images.prepare(p.image()).orElseThrow(() -> new IllegalArgumentException(
                            "the image check refused " + p.image() + " (errors above)"));
                } catch (Exception e) {
                    throw new IllegalArgumentException("profile " + p.name() + ": " + e.getMessage(), e);
                }
                builds.generations().extraArgs(p.name(), p.params());
                adopt(builds, p.name(), p.image(), served);
                watched.add(new BuildWatcher.Watched(p.name(), p.image()));
            }
            for (ProfilesFile.Group g : file.get().groups().values()) {
                g.machines().forEach(mac -> groupOf.put(mac, new ProfileCatalog.Choice(g.profile(), g.name())));
                if (g.machines().isEmpty()) {
                    selectors.add(new GroupSelector(g.name(), g.profile(), g.firmware(), g.labels()));
                }
            }
            if (file.get().defaultProfile().isPresent()) {
                dflt = file.get().defaultProfile();
            }
        }
        return new Setup(new ProfileCatalog(builds.generations(), store, groupOf, selectors, machines, dflt,
                assignments), watched);
    }

    /**
     * The build in DIR was refused at start: when its profile has generations stored before, they are loaded and
     * its default is served (said in one line), and the next build in DIR is watched for. False when there is
     * nothing to fall back on.
     */
    static boolean servesStoredGeneration(Optional<ProfilesFile> file, BuildImport builds, Path dir,
                                          java.io.PrintWriter err) {
        if (file.map(f -> f.profiles().containsKey(DIR_PROFILE)).orElse(false)) {
            return false;
        }
        builds.generations().load(DIR_PROFILE, builds::usable);
        Optional<dev.pivot.boot.ProfileGenerations> stored = builds.generations().of(DIR_PROFILE);
        stored.ifPresent(pg -> {
            err.printf("pivot: profile %s: not serving the build in %s (above); generation %d, stored before, stays"
                    + " the default%n", DIR_PROFILE, dir, pg.defaultGeneration().number());
            err.flush();
        });
        return stored.isPresent();
    }

    /** The profile's stored generations (those whose artifacts are still here), then the build there now. */
    private static void adopt(BuildImport builds, String profile, Path dir, ServedImage served)
            throws java.io.IOException {
        int unusable = builds.generations().load(profile, builds::usable);
        if (unusable > 0) {
            org.slf4j.LoggerFactory.getLogger(ProfileSetup.class).warn(
                    "profile {}: {} stored generations dropped: their artifacts are gone from the state directory",
                    profile, unusable);
        }
        builds.adopt(profile, dir, served);
    }
}
