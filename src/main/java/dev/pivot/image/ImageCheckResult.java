package dev.pivot.image;

import java.util.List;

/**
 * What {@link ImageCheck} learned about an image.
 *
 * @param kernelVersion the bzImage's version string, or null if it has none
 * @param release       the kernel release the module checks used (from the bzImage, else the initrd), or null
 * @param initPath      where init= leads inside the root image once symlinks are resolved, or null
 * @param initrdModules the stage-1 initrd's modules for {@code release}, or null if it has none
 * @param storeModules  the root image's module tree for {@code release}, or null if none was found
 * @param findings      errors first, then warnings
 */
public record ImageCheckResult(String kernelVersion, String release, String initPath, ModuleTree initrdModules,
                               ModuleTree storeModules, List<Finding> findings) {

    public ImageCheckResult {
        findings = findings.stream()
                .sorted(java.util.Comparator.comparing(Finding::severity))
                .toList();
    }

    public boolean hasErrors() {
        return findings.stream().anyMatch(f -> f.severity() == Finding.Severity.ERROR);
    }
}
