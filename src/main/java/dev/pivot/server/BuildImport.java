package dev.pivot.server;

import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Generation;
import dev.pivot.boot.Generations;
import dev.pivot.boot.ProfileGenerations;
import dev.pivot.image.BuildInfo;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A build of a profile's image becomes its next generation: at start, and whenever the {@link BuildWatcher} sees
 * the build change. A new build that cannot be served is refused with one line, and the profile's default stays.
 */
final class BuildImport {

    private final ArtifactStore artifacts;
    private final ServedImage.Options options;
    private final Generations generations;
    private final PrintStream out;
    private final PrintWriter err;
    private final Clock clock;

    BuildImport(ArtifactStore artifacts, ServedImage.Options options, Generations generations, Clock clock) {
        this.artifacts = artifacts;
        this.options = options;
        this.generations = generations;
        this.out = options.out();
        this.err = options.err();
        this.clock = clock;
    }

    Generations generations() {
        return generations;
    }

    /** A build imported and checked already: the profile's newest generation, unless it is the newest already. */
    Generation adopt(String profile, Path dir, ServedImage served) throws java.io.IOException {
        Instant now = clock.instant();
        BuildInfo info = BuildInfo.of(dir, served.image().map(i -> i.init()).orElse(""), now);
        Optional<Generation> added = generations.addBuild(profile, served.spec(), info.version(), info.built(),
                info.source(), now);
        ProfileGenerations pg = generations.of(profile).orElseThrow();
        Generation dflt = pg.defaultGeneration();
        synchronized (out) {
            if (added.isPresent()) {
                out.printf("pivot: profile %s: generation %d%s, built %s, from %s — the default now%n", profile,
                        added.get().number(), version(added.get()), added.get().built(), added.get().source());
            } else {
                out.printf("pivot: profile %s: %s is generation %d already; generation %d is the default%n", profile,
                        info.source(), pg.newest().number(), dflt.number());
            }
            out.flush();
        }
        return added.orElse(dflt);
    }

    /**
     * Imports the build now in {@code dir} (off the protocol threads): checked as at start; refused with one line
     * naming the build and every reason, and then the profile's default stays what it was.
     */
    void reimport(String profile, Path dir) {
        ByteArrayOutputStream said = new ByteArrayOutputStream();
        StringWriter errors = new StringWriter();
        ServedImage.Options quiet = new ServedImage.Options(options.mode(), options.init(), options.skipCheck(),
                options.machineRam(), new PrintStream(said, true, StandardCharsets.UTF_8), new PrintWriter(errors, true),
                options.transport());
        String reason;
        try {
            Optional<ServedImage> served = ServedImage.prepare(new dev.pivot.boot.BootSource.ImageDir(dir),
                    "profile " + profile + ": ", artifacts, quiet);
            if (served.isPresent()) {
                synchronized (out) {
                    out.print(said.toString(StandardCharsets.UTF_8));
                }
                adopt(profile, dir, served.get());
                return;
            }
            reason = reasons(errors.toString());
        } catch (Exception e) {
            reason = e.getMessage() == null ? e.toString() : e.getMessage();
        }
        String stays = generations.of(profile).map(pg -> "generation " + pg.defaultGeneration().number()
                + " stays the default").orElse("nothing served for it");
        synchronized (err) {
            err.printf("pivot: profile %s: refusing the new build in %s: %s; %s%n", profile, dir, reason, stays);
            err.flush();
        }
    }

    /** The check's error lines ("pivot: ERROR subject: why") as one "subject: why; …". */
    static String reasons(String errorLines) {
        List<String> out = new ArrayList<>();
        for (String line : errorLines.split("\n")) {
            if (line.startsWith("pivot: ERROR ")) {
                out.add(line.substring("pivot: ERROR ".length()).strip());
            } else if (!line.isBlank() && !line.startsWith("pivot: refusing to serve")) {
                out.add(line.replaceFirst("^pivot: ", "").strip());
            }
        }
        return out.isEmpty() ? "the image check refused it" : String.join("; ", out);
    }

    private static String version(Generation g) {
        return g.version().isEmpty() ? "" : " (NixOS " + g.version() + ")";
    }

    /** Every artifact of a stored generation is still in the artifact store (it may have been wiped). */
    boolean usable(dev.pivot.boot.BootSpec spec) {
        return spec.artifacts().stream().allMatch(a -> java.nio.file.Files.isRegularFile(artifacts.path(a)));
    }
}
