package dev.pivot.server;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSource;
import dev.pivot.boot.BootSpec;
import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.image.Finding;
import dev.pivot.image.GenericImport;
import dev.pivot.image.ImageCheck;
import dev.pivot.image.ImageCheckResult;
import dev.pivot.image.ImageException;
import dev.pivot.image.ImportedImage;
import dev.pivot.image.KernelArch;
import dev.pivot.image.KernelImport;
import dev.pivot.image.NetbootImport;
import dev.pivot.image.Stage1Drivers;
import dev.pivot.stage1.CpuArch;
import dev.pivot.stage1.NativeRootInitrd;
import dev.pivot.stage1.Prelude;
import dev.pivot.stage1.Stage1Exception;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * What `pivot serve` does with what it serves before any server starts. An image directory is imported (a NixOS
 * netboot build, or a generic image), checked ({@link ImageCheck}: errors refuse, one line each; warnings are
 * printed), and gets the stage-1 artifacts for the chosen mode — Pivot's prelude (with NIC drivers from the root
 * image when the initrd has none), or, in native mode, the root image as a second initrd. A kernel with initrds
 * ({@code --kernel}, or a pivot.yaml naming no root image) is stored as it is and booted with its own command line.
 *
 * @param image the imported image; empty for a kernel + initrds boot
 * @param spec  what every machine boots
 */
public record ServedImage(Optional<ImportedImage> image, BootSpec spec) {

    /**
     * What the operator asked for, and where the lines go.
     *
     * @param machineRam the machines' RAM in bytes when the operator said (--machine-ram), for native mode
     * @param transport  how stage 1 reaches the root image: NBD refuses a kernel of another processor than this
     *                   server's, whose NBD client stage 1 gets ({@link NbdStage1})
     */
    public record Options(ServerConfig.Stage1Mode mode, String init, boolean skipCheck,
                          java.util.OptionalLong machineRam, PrintStream out, PrintWriter err,
                          ServerConfig.RootTransport transport) {
    }

    /**
     * Empty, after saying why on {@code err}, when the image must not be served.
     *
     * @param prefix how errors about a kernel's files begin: "--" for the flags ("--kernel linux: no such file"),
     *               "profile NAME: " for a profile
     */
    public static Optional<ServedImage> prepare(BootSource source, String prefix, ArtifactStore store, Options o)
            throws IOException, ImageException, Stage1Exception {
        return switch (source) {
            case BootSource.KernelFiles files -> Optional.of(kernelOnly(files, prefix, store));
            case BootSource.ImageDir dir -> prepare(dir.dir(), prefix.equals("--"), store, o);
        };
    }

    /**
     * Kernel, initrds and command line: no check (there is no root image to check against) and no stage 1, so
     * --stage1 and --init, which the flags' own kernel may not have (OptionsCheck), do not apply to it.
     */
    private static ServedImage kernelOnly(BootSource.KernelFiles files, String prefix, ArtifactStore store)
            throws ImageException {
        return new ServedImage(Optional.empty(), KernelImport.importFiles(files, store, prefix));
    }

    /** @param fromFlags DIR itself, not a profile's image: --init and --stage1 native were meant for it */
    private static Optional<ServedImage> prepare(Path dir, boolean fromFlags, ArtifactStore store, Options o)
            throws IOException, ImageException, Stage1Exception {
        Optional<BootSource.KernelFiles> plain = Files.isDirectory(dir) && !Files.exists(dir.resolve(NetbootImport.SCRIPT))
                ? GenericImport.kernelOnly(dir) : Optional.empty();
        if (plain.isPresent()) {
            if (fromFlags && o.mode() == ServerConfig.Stage1Mode.NATIVE) {
                throw new IllegalArgumentException("--stage1 native needs an image with a root image; " + dir.resolve(
                        GenericImport.MANIFEST) + " names none");
            }
            if (fromFlags && o.init() != null) {
                throw new IllegalArgumentException("--init is for images with a root image; " + dir.resolve(
                        GenericImport.MANIFEST) + " names none (put init=… into its cmdline)");
            }
            return Optional.of(kernelOnly(plain.get(), dir.resolve(GenericImport.MANIFEST) + ": ", store));
        }
        boolean generic = GenericImport.isGeneric(dir);
        if (o.init() != null && !generic) {
            throw new IllegalArgumentException("--init is for generic images (kernel, initrd, root.squashfs);"
                    + " a NixOS build names its init in netboot.ipxe");
        }
        ImportedImage image = generic ? GenericImport.importDir(dir, store, o.init())
                : NetbootImport.importDir(dir, store);
        Optional<BootSpec> spec = o.mode() == ServerConfig.Stage1Mode.NATIVE
                ? nativeSpec(dir, image, store, generic, o)
                : checkedPrelude(dir, image, store, o).map(image::withPrelude);
        return spec.map(s -> new ServedImage(Optional.of(image), s));
    }

    /**
     * Native mode: no prelude; the root image goes to the machine as a second initrd, as NixOS's own netboot does,
     * and the image's stage 1 is entered directly. Refused up front when the image cannot fit (iPXE, newc, RAM).
     */
    private static Optional<BootSpec> nativeSpec(Path dir, ImportedImage image, ArtifactStore store, boolean generic,
                                                 Options o) throws IOException, ImageException, Stage1Exception {
        if (generic) {
            o.err().println("pivot: --stage1 native is for NixOS netboot builds: a generic image has no stage 1 of"
                    + " its own to mount the root image; use --stage1 prelude");
            o.err().flush();
            return Optional.empty();
        }
        ImageCheckResult check = ImageCheck.check(image, store);
        // Only the prelude needs the network (a NIC driver, af_packet) in stage 1.
        if (!mayServe(dir, check, f -> f.subject().equals("ethernet") || f.subject().equals("module:af_packet"), o)) {
            return Optional.empty();
        }
        NativeRootInitrd.Plan plan = NativeRootInitrd.plan(image.rootImage().size(), o.machineRam());
        if (plan.refusal().isPresent()) {
            o.err().printf("pivot: refusing --stage1 native: %s; use --stage1 prelude (needs about %d MiB)%n",
                    plan.refusal().get(), plan.preludeRamNeeded() >> 20);
            o.err().flush();
            return Optional.empty();
        }
        o.out().println("pivot: WARNING " + plan.advice());
        Artifact cpio = NativeRootInitrd.build(store, store.path(image.rootImage()), image.rootImage().size());
        return Optional.of(image.withNativeRoot(cpio));
    }

    /**
     * Runs {@link ImageCheck} and builds the prelude for this image: with the NIC drivers from the root image when
     * the initrd has none (fetch mode). Empty, after one line per error, when the image cannot boot.
     */
    private static Optional<Artifact> checkedPrelude(Path dir, ImportedImage image, ArtifactStore store, Options o)
            throws IOException, ImageException, Stage1Exception {
        ImageCheckResult check = ImageCheck.check(image, store);
        boolean nbd = o.transport() == ServerConfig.RootTransport.NBD;
        // The prelude is the same for either transport: NBD's client is another initrd (NbdStage1), so a
        // generation suits every server that shares the database.
        Optional<Stage1Drivers> drivers = Stage1Drivers.whenNeeded(check, store.path(image.rootImage()));
        drivers.ifPresent(d -> o.out().printf("pivot: stage 1 gets %s (%d modules, %d KiB) from the root image's"
                        + " %s%n", String.join(", ", d.modules()), d.modules().size(), d.moduleBytes() / 1024,
                d.source()));
        Predicate<Finding> ignored = f -> (drivers.isPresent() && f.subject().equals("ethernet")) // Pivot brings it
                // a generic image's init is outside the store by design
                || (f.subject().equals("init") && f.severity() == Finding.Severity.WARNING
                && !image.init().startsWith("/nix/store/"));
        if (!mayServe(dir, check, ignored, o)) {
            return Optional.empty();
        }
        SortedMap<String, byte[]> extra = new TreeMap<>();
        drivers.ifPresent(d -> d.preludeFiles().forEach(f -> extra.put(f.relativePath(), f.content())));
        // The prelude's busybox is built for the image's kernel: an arm64 Image gets busybox-static:arm64.
        Optional<CpuArch> arch = KernelArch.of(store.path(image.kernel()));
        if (arch.isPresent() && arch.get() != CpuArch.X86_64) {
            if (nbd) {
                o.err().println("pivot: " + dir + ": an " + arch.get().label() + " kernel: --root-transport nbd needs"
                        + " an x86-64 image (stage 1's nbd-client comes from this server); use --root-transport http");
                o.err().flush();
                return Optional.empty();
            }
            o.out().println("pivot: " + dir + ": " + arch.get().label() + " kernel: stage 1 gets busybox from "
                    + arch.get().busybox() + " (" + arch.get().busyboxPackage() + ")");
            return Optional.of(Prelude.build(store, arch.get(), extra, java.util.Set.of()));
        }
        return Optional.of(Prelude.build(store, Prelude.DEFAULT_BUSYBOX, extra));
    }

    /** Prints the check's findings (errors on stderr, one line each); false when an error forbids serving. */
    private static boolean mayServe(Path dir, ImageCheckResult check, Predicate<Finding> ignored, Options o) {
        int errors = 0;
        for (Finding f : check.findings()) {
            if (ignored.test(f)) {
                continue;
            }
            if (f.severity() == Finding.Severity.ERROR) {
                errors++;
                o.err().printf("pivot: ERROR %s: %s%n", f.subject(), f.message());
            } else {
                o.out().printf("pivot: WARNING %s: %s%n", f.subject(), f.message());
            }
        }
        o.err().flush();
        if (errors > 0 && !o.skipCheck()) {
            o.err().printf("pivot: refusing to serve %s: %d error%s above (--skip-check serves it anyway)%n", dir,
                    errors, errors == 1 ? "" : "s");
            o.err().flush();
            return false;
        }
        return true;
    }
}
