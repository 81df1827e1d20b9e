package dev.pivot.image;

import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Imports a NixOS netboot build directory (bzImage, initrd, netboot.ipxe) into an {@link ArtifactStore}: the
 * kernel as is, the initrd split into its stage-1 part and the squashfs root image, which stage 1 then fetches
 * over HTTP instead of unpacking it from RAM.
 *
 * <p>Every artifact is stored atomically and only the returned {@link ImportedImage} refers to them, so a failed
 * import leaves at most unreferenced objects behind, never a half-imported image.
 */
public final class NetbootImport {

    public static final String SCRIPT = "netboot.ipxe";
    public static final String STAGE1_NAME = "initrd";

    private static final Logger log = LoggerFactory.getLogger(NetbootImport.class);

    private NetbootImport() {
    }

    public static ImportedImage importDir(Path dir, ArtifactStore store) throws ImageException {
        if (!Files.exists(dir)) {
            throw new ImageException(dir + ": no such directory");
        }
        if (!Files.isDirectory(dir)) {
            throw new ImageException(dir + ": not a directory");
        }
        Path script = dir.resolve(SCRIPT);
        if (!Files.isRegularFile(script) && Files.exists(dir.resolve("init")) && Files.exists(dir.resolve("kernel"))
                && Files.exists(dir.resolve("nixos-version"))) {
            // A toplevel's initrd mounts the store from a squashfs that only the netboot build packs.
            throw new ImageException(dir + ": a NixOS system toplevel, which has no root image (nix-store.squashfs)"
                    + " to serve; give its netboot build (config.system.build.netboot) instead");
        }
        if (!Files.isRegularFile(script)) {
            throw new ImageException(dir + ": no " + SCRIPT + " (not a NixOS netboot build?), no "
                    + GenericImport.ROOT_NAME + " and no " + GenericImport.MANIFEST + "; for a kernel and initrds alone:"
                    + " pivot serve --kernel FILE --initrd FILE --cmdline '…'");
        }
        NetbootIpxe ipxe = NetbootIpxe.parse(script);
        if (ipxe.initrds().size() != 1) {
            throw new ImageException(script + ": " + ipxe.initrds().size()
                    + " initrd lines; Pivot imports exactly one (the NixOS netboot initrd)");
        }
        Path kernelFile = existingFile(dir, script, "kernel", ipxe.kernel());
        Path initrdFile = existingFile(dir, script, "initrd", ipxe.initrds().getFirst());

        AtomicReference<Artifact> rootImage = new AtomicReference<>();
        InitrdLayout layout = InitrdSplitter.split(initrdFile,
                (entry, body) -> rootImage.set(store.put(body, InitrdSplitter.ROOT_IMAGE)));
        if (layout.stage1Length() == 0) {
            throw new ImageException(initrdFile + ": nothing comes before " + InitrdSplitter.ROOT_IMAGE
                    + ", so there is no stage 1 to boot");
        }
        try {
            Artifact kernel;
            try (InputStream in = Files.newInputStream(kernelFile)) {
                kernel = store.put(in, kernelFile.getFileName().toString());
            }
            Artifact stage1;
            try (InputStream in = layout.openStage1()) {
                stage1 = store.putPadded4(in, STAGE1_NAME);
            }
            ImportedImage image = new ImportedImage(kernel, stage1, rootImage.get(), ipxe.init(), ipxe.kernelArgs(),
                    dir);
            log.info("imported {}: kernel {} ({} bytes), stage 1 {} ({} bytes, {} of {} archives), root image {} "
                            + "({} bytes)", dir, kernel.sha256(), kernel.size(), stage1.sha256(), stage1.size(),
                    layout.rootSegment(), layout.segments().size(), image.rootImage().sha256(),
                    image.rootImage().size());
            return image;
        } catch (IOException e) {
            throw new ImageException(dir + ": import failed: " + e.getMessage(), e);
        }
    }


    private static Path existingFile(Path dir, Path script, String what, String name) throws ImageException {
        Path file = dir.resolve(name).normalize();
        if (!file.startsWith(dir.normalize())) {
            throw new ImageException(script + ": " + what + " file " + name + " is outside " + dir);
        }
        if (!Files.exists(file)) {
            throw new ImageException(script + ": " + what + " file " + name + " is missing (" + file + ")");
        }
        if (!Files.isRegularFile(file)) {
            throw new ImageException(script + ": " + what + " file " + name + " is not a regular file (" + file
                    + ")");
        }
        return file;
    }
}
