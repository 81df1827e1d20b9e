package dev.pivot.boot;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a machine boots: pixiecore's "spec". Everything is content-addressed; protocol code turns it into URLs.
 *
 * @param kernel     the kernel image
 * @param initrds    initrds in load order: the image's own stage 1 first, then Pivot's prelude (or, for a plain
 *                   kernel + initrds boot, the operator's initrds in the order given)
 * @param kernelArgs the image's own kernel parameters, in order, without init= and initrd=
 * @param rootBoot   Pivot's stage-1 contract (root image, init=, rdinit=); empty for a plain kernel + initrds boot,
 *                   which gets only its own parameters
 */
public record BootSpec(Artifact kernel, List<Artifact> initrds, List<String> kernelArgs, Optional<RootBoot> rootBoot) {

    /**
     * The part of a boot that goes through Pivot's stage-1 contract.
     *
     * @param rootImage  the squashfs that stage 1 fetches
     * @param init       the image's stage-2 init path (init=/nix/store/…/init, or a generic image's /sbin/init)
     * @param stage1Init the stage-1 entry point, passed as rdinit= ("/pivot/init", or "/init" in native mode)
     */
    public record RootBoot(Artifact rootImage, String init, String stage1Init) {
    }

    public BootSpec {
        initrds = List.copyOf(initrds);
        kernelArgs = List.copyOf(kernelArgs);
    }

    /** A boot through Pivot's stage-1 contract: stage 1 entered at {@code stage1Init} fetches {@code rootImage}. */
    public BootSpec(Artifact kernel, List<Artifact> initrds, Artifact rootImage, String init, List<String> kernelArgs,
                    String stage1Init) {
        this(kernel, initrds, kernelArgs, Optional.of(new RootBoot(rootImage, init, stage1Init)));
    }

    /** Kernel, initrds and command line, nothing else: what pixiecore's {@code boot KERNEL INITRD --cmdline} serves. */
    public static BootSpec kernelOnly(Artifact kernel, List<Artifact> initrds, List<String> kernelArgs) {
        return new BootSpec(kernel, initrds, kernelArgs, Optional.empty());
    }

    /** Every artifact this boot needs: what must stay stored while a machine can be given it. */
    public List<Artifact> artifacts() {
        List<Artifact> all = new ArrayList<>(initrds);
        all.add(kernel);
        rootBoot.ifPresent(r -> all.add(r.rootImage()));
        return all;
    }

    /** The same boot with {@code more} loaded after its initrds, in order (the kernel unpacks them in order). */
    public BootSpec withInitrds(List<Artifact> more) {
        List<Artifact> all = new ArrayList<>(initrds);
        all.addAll(more);
        return new BootSpec(kernel, all, kernelArgs, rootBoot);
    }

    /** The same boot with {@code more} kernel parameters after the image's own (a profile's params). */
    public BootSpec withKernelArgs(List<String> more) {
        List<String> args = new ArrayList<>(kernelArgs);
        args.addAll(more);
        return new BootSpec(kernel, initrds, args, rootBoot);
    }
}
