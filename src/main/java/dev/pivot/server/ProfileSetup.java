package dev.pivot.server;

import dev.pivot.boot.Assignments;
import dev.pivot.boot.BootSource;
import dev.pivot.boot.GenerationStore;
import dev.pivot.boot.GroupSelector;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.MachineRepository;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.boot.ProfileLoader;
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

    /**
     * Imports and checks one profile's image as `pivot serve` does its DIR; empty when the check refuses it. Errors
     * about a kernel's files begin with {@code prefix}.
     */
    @FunctionalInterface
    interface ImagePreparer {
        Optional<ServedImage> prepare(BootSource source, String prefix) throws Exception;
    }

    /** The catalog, and each profile's build path for the {@link BuildWatcher}. */
    record Setup(ProfileCatalog catalog, List<BuildWatcher.Watched> watched) {
    }

    /**
     * @param dir      what `pivot serve` was told to serve (DIR or --kernel …): the profile "default"
     * @param dirImage it, prepared; null when it was refused and its stored generations are served
     */
    static Setup catalog(Optional<ProfilesFile> file, BootSource dir, ServedImage dirImage, ImagePreparer images,
                         BuildImport builds, Assignments assignments, MachineRepository machines,
                         Optional<GenerationStore> store) throws Exception {
        List<BuildWatcher.Watched> watched = new ArrayList<>();
        boolean fileHasDirProfile = file.map(f -> f.profiles().containsKey(DIR_PROFILE)).orElse(false);
        if (!fileHasDirProfile) {
            if (dirImage != null) {
                adopt(builds, DIR_PROFILE, path(dir), dirImage);
            } // else: servesStoredGeneration loaded the stored ones
            if (dir instanceof BootSource.ImageDir(Path d)) {
                watched.add(new BuildWatcher.Watched(DIR_PROFILE, d));
            }
        }
        Map<BootSource, ServedImage> imported = new HashMap<>();
        if (dirImage != null) {
            imported.put(dir, dirImage);
        }
        if (file.isPresent()) {
            for (ProfilesFile.Profile p : file.get().profiles().values()) {
                importProfile(p, images, builds, imported);
                // An image directory's next build becomes a generation; a kernel named file by file stays as given.
                if (p.source() instanceof BootSource.ImageDir(Path d)) {
                    watched.add(new BuildWatcher.Watched(p.name(), d));
                }
            }
        }
        Routes r = routes(file);
        ProfileCatalog catalog = new ProfileCatalog(builds.generations(), store, r.groupOf(), r.selectors(), machines,
                r.defaultProfile(), assignments);
        catalog.reroute(r.groupOf(), r.selectors(), r.defaultProfile(), r.loaders());
        return new Setup(catalog, watched);
    }

    /**
     * One profile's image, prepared once however many profiles name it ({@code imported}), as the profile's newest
     * generation, with the profile's own kernel parameters.
     */
    static void importProfile(ProfilesFile.Profile p, ImagePreparer images, BuildImport builds,
                              Map<BootSource, ServedImage> imported) throws java.io.IOException {
        ServedImage served = imported.get(p.source());
        if (served == null) {
            String prefix = "profile " + p.name() + ": ";
            try {
                served = images.prepare(p.source(), prefix).orElseThrow(() -> new IllegalArgumentException(
                        "the image check refused " + p.source().describe() + " (errors above)"));
            } catch (Exception e) {
                String m = e.getMessage() == null ? e.toString() : e.getMessage();
                throw new IllegalArgumentException(m.startsWith(prefix) ? m : prefix + m, e);
            }
            imported.put(p.source(), served);
        }
        builds.generations().extraArgs(p.name(), p.params());
        adopt(builds, p.name(), path(p.source()), served);
    }

    /**
     * What profiles.yaml routes without an assignment: MAC groups, selecting groups, the default; and the first
     * loader of each profile that chooses one.
     */
    record Routes(Map<MacAddress, ProfileCatalog.Choice> groupOf, List<GroupSelector> selectors,
                  Optional<String> defaultProfile, Map<String, ProfileLoader> loaders) {
    }

    static Routes routes(Optional<ProfilesFile> file) {
        Map<MacAddress, ProfileCatalog.Choice> groupOf = new HashMap<>();
        List<GroupSelector> selectors = new ArrayList<>();
        Optional<String> dflt = Optional.of(DIR_PROFILE);
        Map<String, ProfileLoader> loaders = new HashMap<>();
        if (file.isPresent()) {
            file.get().profiles().values().forEach(p -> p.loader().ifPresent(l -> loaders.put(p.name(), l)));
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
        return new Routes(groupOf, selectors, dflt, loaders);
    }

    /** One line per profile and group, and the default: what `pivot serve` says it loaded. */
    static List<String> describe(ProfilesFile file) {
        List<String> lines = new ArrayList<>();
        file.profiles().values().forEach(p -> lines.add("profile " + p.name() + ": " + p.source().describe()
                + (p.params().isEmpty() ? "" : " + " + String.join(" ", p.params()))
                + p.loader().map(l -> ", UEFI PXE loader " + l.wire()).orElse("")));
        file.groups().values().forEach(g -> lines.add("group " + g.name() + " → " + g.profile() + ": "
                + (g.machines().isEmpty() ? "selects by" + g.firmware().map(f -> " firmware " + f.wire()).orElse("")
                + (g.labels().isEmpty() ? "" : " labels " + g.labels()) : g.machines().size() + " machine"
                + (g.machines().size() == 1 ? "" : "s"))));
        lines.add("default profile: " + file.defaultProfile().orElse(DIR_PROFILE));
        return lines;
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

    /** The path a build is known by: the image directory, or a kernel's file. */
    private static Path path(BootSource source) {
        return switch (source) {
            case BootSource.ImageDir d -> d.dir();
            case BootSource.KernelFiles k -> k.kernel();
        };
    }
}
