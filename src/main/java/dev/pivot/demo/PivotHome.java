package dev.pivot.demo;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the Pivot checkout is (the `pivot` launcher, scripts/), and where the demo image is cached. */
public final class PivotHome {
    private PivotHome() {}

    /** System property pivot.home (or pivot.root, as the tests get it), env PIVOT_HOME, else from the classes. */
    public static Path find() {
        for (String candidate : new String[] {System.getProperty("pivot.home"), System.getProperty("pivot.root"),
                System.getenv("PIVOT_HOME")}) {
            if (candidate != null && !candidate.isBlank() && isHome(Path.of(candidate))) {
                return Path.of(candidate).toAbsolutePath();
            }
        }
        try {
            Path p = Path.of(PivotHome.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path d = p; d != null; d = d.getParent()) {
                if (isHome(d)) {
                    return d;
                }
            }
        } catch (URISyntaxException | SecurityException | NullPointerException ignored) {
            // fall through to the working directory
        }
        Path cwd = Path.of("").toAbsolutePath();
        if (isHome(cwd)) {
            return cwd;
        }
        throw new LabException("cannot find the Pivot checkout (set PIVOT_HOME to the directory with ./pivot)");
    }

    private static boolean isHome(Path d) {
        return Files.isRegularFile(d.resolve("scripts/make-demo-image.sh")) && Files.isRegularFile(d.resolve("pivot"));
    }

    public static Path cache() {
        String c = System.getenv("PIVOT_CACHE");
        return Path.of(c == null || c.isBlank() ? "/var/cache/pivot" : c);
    }
}
