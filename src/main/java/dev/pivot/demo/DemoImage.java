package dev.pivot.demo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Builds the NixOS-shaped demo image with scripts/make-demo-image.sh (fast when the kernel is cached). */
public final class DemoImage {
    private DemoImage() {}

    public static Path build(Path pivotHome, Path outDir, String... options) {
        List<String> cmd = new ArrayList<>(List.of("bash", pivotHome.resolve("scripts/make-demo-image.sh").toString()));
        cmd.addAll(List.of(options));
        cmd.add(outDir.toString());
        Commands.run(cmd);
        return outDir;
    }
}
