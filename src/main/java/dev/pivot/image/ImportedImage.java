package dev.pivot.image;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.stage1.Stage1Contract;

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

    /**
     * NixOS's own stage 1 as native mode enters it: the kernel runs the initrd's /init directly, without Pivot's
     * prelude.
     */
    public static final String IMAGE_STAGE1_INIT = "/init";

    public ImportedImage {
        kernelArgs = List.copyOf(kernelArgs);
    }

    /** The boot spec with Pivot's prelude after the image's stage 1, entered at {@code rdinit=/pivot/init}. */
    public BootSpec withPrelude(Artifact prelude) {
        return spec(prelude, Stage1Contract.RDINIT);
    }

    /**
     * Native mode: the root image as a second initrd ({@code stage1.NativeRootInitrd}), and the image's own stage 1
     * entered directly.
     */
    public BootSpec withNativeRoot(Artifact rootCpio) {
        return spec(rootCpio, IMAGE_STAGE1_INIT);
    }

    /**
     * The root image is a whole root file system that Pivot's stage 1 mounts itself ({@code pivot.mode=layout}: a
     * generic image), not a NixOS store.
     */
    public boolean wholeRoot() {
        return kernelArgs.contains(Stage1Contract.MODE.is(Stage1Contract.LAYOUT_MODE));
    }

    private BootSpec spec(Artifact secondInitrd, String stage1Init) {
        return new BootSpec(kernel, List.of(stage1Initrd, secondInitrd), rootImage, init, kernelArgs, stage1Init);
    }
}
