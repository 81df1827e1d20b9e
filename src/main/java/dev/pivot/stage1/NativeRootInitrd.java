package dev.pivot.stage1;

import dev.pivot.boot.Artifact;
import dev.pivot.format.cpio.CpioWriter;
import dev.pivot.artifacts.ArtifactStore;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Native mode: the root image delivered the way NixOS's own netboot does it, inside the initramfs, so the image's
 * stage 1 finds /nix-store.squashfs without Pivot's prelude. The server builds an uncompressed newc cpio holding just
 * that file (zero-padded to 4 bytes for the EFI stub) and passes it as a second initrd.
 *
 * <p>The price is RAM and hard limits (netboot-facts pitfall 8): the kernel holds the initrd and the unpacked file at
 * once, 2–3 copies, and iPXE cannot place initrds above ~2 GiB (nixpkgs #203593); newc cannot carry a file over
 * 4 GiB (nixpkgs #399607). {@link #plan} says up front whether an image fits.
 */
public final class NativeRootInitrd {

    public static final String NAME = "nix-store.cpio";
    /** iPXE loads images below 4 GB; initrds over about 2 GiB fail to load. */
    public static final long IPXE_INITRD_LIMIT = 2L << 30;
    /** Copies of the image in RAM while the kernel unpacks the initramfs. */
    public static final int RAM_COPIES = 3;
    /** Kernel, stage 1 and the start of stage 2, on top of the image. */
    public static final long BASE_RAM = 256L << 20;

    private NativeRootInitrd() {
    }

    /**
     * @param ramNeeded        about how much RAM a machine needs to boot the image natively
     * @param preludeRamNeeded the same with Pivot's prelude (one copy, fetched after boot)
     * @param refusal          why native mode cannot work for this image, if it cannot
     */
    public record Plan(long squashfsSize, long ramNeeded, long preludeRamNeeded, Optional<String> refusal) {

        /** One line for the console. */
        public String advice() {
            return "--stage1 native: the " + mib(squashfsSize) + " root image is unpacked from the initramfs, which"
                    + " needs about " + mib(ramNeeded) + " of RAM per machine (" + RAM_COPIES + " copies while"
                    + " unpacking); the default --stage1 prelude needs about " + mib(preludeRamNeeded);
        }
    }

    public static Plan plan(long squashfsSize) {
        return plan(squashfsSize, java.util.OptionalLong.empty());
    }

    /** @param machineRam what the machines have (pivot serve --machine-ram): native mode is refused below its need */
    public static Plan plan(long squashfsSize, java.util.OptionalLong machineRam) {
        long cpioSize = squashfsSize + 512;
        long ram = RAM_COPIES * squashfsSize + BASE_RAM;
        long preludeRam = squashfsSize + BASE_RAM;
        String refusal = null;
        if (squashfsSize > CpioWriter.MAX_FILE_SIZE) {
            refusal = "the root image is " + mib(squashfsSize) + ", but a newc cpio cannot carry a file over 4 GiB"
                    + " (nixpkgs #399607); it would also need about " + mib(ram) + " of RAM";
        } else if (cpioSize > IPXE_INITRD_LIMIT) {
            refusal = "the root image is " + mib(squashfsSize) + ", but iPXE cannot load an initrd over 2 GiB"
                    + " (nixpkgs #203593); it would also need about " + mib(ram) + " of RAM";
        } else if (machineRam.isPresent() && machineRam.getAsLong() < ram) {
            refusal = "the " + mib(squashfsSize) + " root image needs about " + mib(ram) + " of RAM per machine"
                    + " unpacked from the initramfs (" + RAM_COPIES + " copies), and the machines have "
                    + mib(machineRam.getAsLong()) + " (--machine-ram)";
        }
        return new Plan(squashfsSize, ram, preludeRam, Optional.ofNullable(refusal));
    }

    /** The cpio with {@code /nix-store.squashfs}; refused (with the plan's reason) when it cannot work. */
    public static Artifact build(ArtifactStore store, Path squashfs, long squashfsSize) throws Stage1Exception {
        Plan plan = plan(squashfsSize);
        if (plan.refusal().isPresent()) {
            throw new Stage1Exception("--stage1 native: " + plan.refusal().get() + "; use --stage1 prelude (needs"
                    + " about " + mib(plan.preludeRamNeeded()) + ")");
        }
        try {
            return store.write(NAME, true, out -> {
                CpioWriter cpio = new CpioWriter(out);
                cpio.file(Stage1Contract.ROOT_IMAGE_FILE, 0444, squashfs);
                cpio.finish();
            });
        } catch (IOException e) {
            throw new Stage1Exception(NAME + ": cannot build it from " + squashfs + ": " + e.getMessage(), e);
        }
    }

    static String mib(long bytes) {
        return bytes >= (10L << 30) ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : ((bytes + (1 << 19)) >> 20) + " MiB";
    }
}
