package dev.pivot.boot;

import java.util.ArrayList;
import java.util.List;

/**
 * What a machine boots: pixiecore's "spec". Everything is content-addressed; protocol code turns it into URLs.
 *
 * @param kernel     the kernel image
 * @param initrds    initrds in load order: the image's own stage 1 first, then Pivot's prelude
 * @param rootImage  the squashfs that stage 1 fetches
 * @param init       the image's stage-2 init path from netboot.ipxe (init=/nix/store/…/init)
 * @param kernelArgs the image's own kernel parameters, in order, without init= and initrd=
 * @param stage1Init the prelude's entry point, passed as rdinit= ("/pivot/init")
 */
public record BootSpec(Artifact kernel, List<Artifact> initrds, Artifact rootImage, String init,
                       List<String> kernelArgs, String stage1Init) {

    public BootSpec {
        initrds = List.copyOf(initrds);
        kernelArgs = List.copyOf(kernelArgs);
    }

    /** Every artifact this boot needs: what must stay stored while a machine can be given it. */
    public List<Artifact> artifacts() {
        List<Artifact> all = new ArrayList<>(initrds);
        all.add(kernel);
        all.add(rootImage);
        return all;
    }

    /** The same boot with {@code more} kernel parameters after the image's own (a profile's params). */
    public BootSpec withKernelArgs(List<String> more) {
        List<String> args = new ArrayList<>(kernelArgs);
        args.addAll(more);
        return new BootSpec(kernel, initrds, rootImage, init, args, stage1Init);
    }
}
