package dev.pivot.server;

import dev.pivot.boot.Assignments;
import dev.pivot.boot.BootSource;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.GroupSelector;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.MachineRepository;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.profiles.ProfilesFile;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * `pivot serve DIR [--profiles FILE]`: the served DIR is the profile "default" (unless the file defines its own);
 * machines no assignment or group covers boot the file's {@code default:}, else "default".
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

    static ProfileCatalog catalog(Optional<ProfilesFile> file, BootSpec dirSpec, ImagePreparer images,
                                  Assignments assignments, MachineRepository machines) throws Exception {
        Map<String, BootSpec> specs = new HashMap<>();
        specs.put(DIR_PROFILE, dirSpec);
        Map<MacAddress, ProfileCatalog.Choice> groupOf = new HashMap<>();
        List<GroupSelector> selectors = new ArrayList<>();
        Optional<String> dflt = Optional.of(DIR_PROFILE);
        if (file.isPresent()) {
            for (ProfilesFile.Profile p : file.get().profiles().values()) {
                BootSpec spec;
                String prefix = "profile " + p.name() + ": ";
                try {
                    spec = images.prepare(p.source(), prefix).orElseThrow(() -> new IllegalArgumentException(
                            "the image check refused " + p.source().describe() + " (errors above)")).spec();
                } catch (Exception e) {
                    String m = e.getMessage() == null ? e.toString() : e.getMessage();
                    throw new IllegalArgumentException(m.startsWith(prefix) ? m : prefix + m, e);
                }
                specs.put(p.name(), spec.withKernelArgs(p.params()));
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
        return new ProfileCatalog(specs, groupOf, selectors, machines, dflt, assignments);
    }
}
