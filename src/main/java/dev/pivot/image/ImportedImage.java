package dev.pivot.image;

import dev.pivot.boot.Artifact;

import java.nio.file.Path;
import java.util.List;

/**
 * A NixOS netboot build, imported into the store.
 *
 * @param kernel       bzImage (Image on aarch64)
 * @param stage1Initrd the initrd's stage-1 archives, byte for byte, zero-padded to a multiple of 4 ("initrd")
 * @param rootImage    the raw squashfs taken out of the initrd ("nix-store.squashfs")
 * @param init         the stage-2 init path from netboot.ipxe
 * @param kernelArgs   the image's own kernel parameters, without init=, initrd= and iPXE variables
 * @param source       the imported directory
 */
public record ImportedImage(Artifact kernel, Artifact stage1Initrd, Artifact rootImage, String init,
                            List<String> kernelArgs, Path source) {

    public ImportedImage {
        kernelArgs = List.copyOf(kernelArgs);
    }
}
