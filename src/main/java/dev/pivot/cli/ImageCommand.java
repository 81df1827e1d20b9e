package dev.pivot.cli;

import dev.pivot.server.StateDir;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSource;
import dev.pivot.boot.BootSpec;
import dev.pivot.image.GenericImport;
import dev.pivot.image.KernelImport;
import dev.pivot.image.KernelSignature;
import dev.pivot.image.KernelVersion;
import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.image.Finding;
import dev.pivot.image.ImageCheck;
import dev.pivot.image.ImageCheckResult;
import dev.pivot.image.NbdReadiness;
import dev.pivot.image.ImageException;
import dev.pivot.image.ImportedImage;
import dev.pivot.image.InitrdSegment;
import dev.pivot.image.InitrdSplitter;
import dev.pivot.image.ModuleTree;
import dev.pivot.image.NetbootImport;
import dev.pivot.image.NetbootIpxe;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/** `pivot image …`: look at netboot builds without serving them. */
@Command(name = "image", mixinStandardHelpOptions = true, subcommands = {ImageCommand.Inspect.class, ImageKexecCommand.class},
        description = "Look at NixOS netboot builds.")
public final class ImageCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Exit status when the check found an error. */
    public static final int CHECK_FAILED = ExitCodes.USAGE; // a broken image is bad input, as serve refusing it

    /** `pivot image inspect DIR [--json] [--state DIR]`. */
    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = {"Import the netboot build or generic image in DIR and check it before anything boots it:",
                    "kernel version, initrd parts, root image, init= and the kernel modules stage 1 needs.",
                    "Exits " + CHECK_FAILED + " when the check finds an error."})
    static final class Inspect implements Callable<Integer> {

        @Spec
        CommandSpec spec;

        @Parameters(index = "0", paramLabel = "DIR", description = "a NixOS netboot build (bzImage, initrd,"
                + " netboot.ipxe), a generic image (kernel, initrd, root.squashfs, optional pivot.yaml), or a pivot.yaml"
                + " naming a kernel and initrds alone")
        Path dir;

        @Option(names = "--json", description = "print the report as JSON")
        boolean json;

        @Option(names = "--state", paramLabel = "DIR",
                description = "import into this state directory (as `pivot serve --state`); default: a temporary one")
        Path state;

        @Override
        public Integer call() throws Exception {
            return StateDir.withArtifacts(state, "pivot-inspect-", store -> {
                Inspection inspection = inspect(dir, store);
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                            .writeValueAsString(inspection));
                } else {
                    printText(inspection, out);
                }
                out.flush();
                return inspection.ok() ? 0 : CHECK_FAILED;
            });
        }
    }

    // ---- the report ----------------------------------------------------------------------------------------

    /** What kind of image DIR is: how Pivot boots it. */
    public enum Kind {
        /** A NixOS netboot build: the root image is the store, the image's stage 1 mounts it. */
        nixos,
        /** A generic image: the root image is a whole root file system, Pivot's stage 1 mounts it. */
        generic,
        /** A pivot.yaml naming a kernel and initrds alone: served as they are, no stage 1, no root image. */
        kernel
    }

    /**
     * Everything `inspect` reports; also its JSON shape. A {@link Kind#kernel} image has no root image, init= or
     * checks (null, empty): {@code initrds} lists what it boots.
     */
    public record Inspection(String image, Kind kind, Kernel kernel, Initrd initrd, List<Initrd> initrds,
                             RootImage rootImage, String init, String initResolved, List<String> kernelParams,
                             List<Modules> modules, List<Finding> findings, boolean ok, NbdReadiness nbd) {
    }

    /** @param secureBoot whether it boots under UEFI Secure Boot, signed by whom, and what to do when not */
    public record Kernel(String file, long size, String sha256, String version, String release,
                         SecureBoot secureBoot) {
    }

    /** From the kernel's Authenticode signature ({@link KernelSignature}); {@code advice} null when none needed. */
    public record SecureBoot(boolean signed, List<KernelSignature.Signer> signers, boolean trustedByPivotsShim,
                             String verdict, String advice) {
        static SecureBoot of(Path kernel) throws IOException {
            KernelSignature s = KernelSignature.read(kernel);
            return new SecureBoot(s.signed(), s.signers(), s.trustedByPivotsShim(), s.verdict(),
                    s.advice().orElse(null));
        }
    }

    /** @param rootImage whether this part holds nix-store.squashfs (Pivot serves it separately) */
    public record InitrdPart(String compression, int entries, long start, long end, boolean rootImage) {
    }

    /** @param stage1Size the stage-1 artifact Pivot serves: the parts before the root image, padded to 4 bytes */
    public record Initrd(String file, long size, List<InitrdPart> parts, long stage1Size, String stage1Sha256) {
    }

    public record RootImage(String name, long size, String sha256) {
    }

    public record Modules(String place, String location, int loadable, int builtin, Set<String> ethernetDrivers) {
        static Modules of(ModuleTree tree) {
            return new Modules(tree.place(), tree.location(), tree.modules().size(), tree.builtin().size(),
                    tree.ethernetDrivers());
        }
    }

    /** Imports DIR the way `pivot serve DIR` would and checks it. */
    static Inspection inspect(Path dir, ArtifactStore store) throws ImageException, IOException {
        boolean netboot = Files.exists(dir.resolve(NetbootImport.SCRIPT));
        Optional<BootSource.KernelFiles> plain = !netboot && Files.isDirectory(dir) ? GenericImport.kernelOnly(dir)
                : Optional.empty();
        if (plain.isPresent()) {
            return inspectKernel(dir, plain.get(), store);
        }
        if (!netboot && GenericImport.isGeneric(dir)) {
            return inspect(GenericImport.importDir(dir, store, null), GenericImport.initrdFile(dir), Kind.generic,
                    store);
        }
        ImportedImage image = NetbootImport.importDir(dir, store);
        NetbootIpxe ipxe = NetbootIpxe.parse(image.source().resolve(NetbootImport.SCRIPT));
        return inspect(image, image.source().resolve(ipxe.initrds().getFirst()), Kind.nixos, store);
    }

    /** A kernel and initrds alone: what is stored and served; nothing to check against a root image. */
    private static Inspection inspectKernel(Path dir, BootSource.KernelFiles files, ArtifactStore store)
            throws ImageException, IOException {
        BootSpec spec = KernelImport.importFiles(files, store, dir.resolve(GenericImport.MANIFEST) + ": ");
        Optional<KernelVersion> version = KernelVersion.read(files.kernel());
        List<Initrd> initrds = new ArrayList<>();
        for (int n = 0; n < files.initrds().size(); n++) {
            Path file = files.initrds().get(n);
            Artifact stored = spec.initrds().get(n);
            initrds.add(new Initrd(file.toString(), Files.size(file), parts(file), stored.size(), stored.sha256()));
        }
        Artifact kernel = spec.kernel();
        return new Inspection(dir.toString(), Kind.kernel, new Kernel(kernel.name(), kernel.size(), kernel.sha256(),
                version.map(KernelVersion::full).orElse(null), version.map(KernelVersion::release).orElse(null),
                SecureBoot.of(files.kernel())),
                null, initrds, null, null, null, spec.kernelArgs(), List.of(), List.of(), true, null);
    }

    /** The archives of one initrd file, and whether one holds the root image. */
    private static List<InitrdPart> parts(Path initrdFile) throws ImageException {
        List<InitrdPart> parts = new ArrayList<>();
        for (InitrdSegment s : InitrdSplitter.segments(initrdFile)) {
            boolean root = s.entries().stream().anyMatch(e -> e.isRegularFile()
                    && e.path().equals(InitrdSplitter.ROOT_IMAGE));
            parts.add(new InitrdPart(s.compression().compressed() ? s.compression().label() : "none",
                    s.entries().size(), s.start(), s.end(), root));
        }
        return parts;
    }

    static Inspection inspect(ImportedImage image, Path initrdFile, Kind kind, ArtifactStore store)
            throws ImageException {
        List<InitrdPart> parts = parts(initrdFile);
        long initrdSize;
        try {
            initrdSize = Files.size(initrdFile);
        } catch (IOException e) {
            throw new ImageException(initrdFile + ": " + e.getMessage(), e);
        }
        ImageCheckResult check = ImageCheck.check(image, store);
        Artifact kernel = image.kernel();
        List<Modules> modules = Stream.of(check.initrdModules(), check.storeModules())
                .filter(java.util.Objects::nonNull).map(Modules::of).toList();
        Initrd initrd = new Initrd(initrdFile.toString(), initrdSize, parts, image.stage1Initrd().size(),
                image.stage1Initrd().sha256());
        return new Inspection(image.source().toString(), kind,
                new Kernel(kernel.name(), kernel.size(), kernel.sha256(), check.kernelVersion(), check.release(),
                        secureBoot(store.path(kernel))),
                initrd, List.of(initrd),
                new RootImage(image.rootImage().name(), image.rootImage().size(), image.rootImage().sha256()),
                image.init(), bootedPath(check.initPath(), image.wholeRoot()), image.kernelArgs(),
                modules, check.findings(), !check.hasErrors(), NbdReadiness.of(check,
                image.rootImage().size()));
    }

    private static SecureBoot secureBoot(Path kernel) throws ImageException {
        try {
            return SecureBoot.of(kernel);
        } catch (IOException e) {
            throw new ImageException(kernel + ": cannot read its signature: " + e.getMessage(), e);
        }
    }

    /**
     * A path inside the root image as the booted system sees it: a NixOS store image is mounted at /nix/store, a
     * whole root file system at /.
     */
    private static String bootedPath(String inImage, boolean wholeRoot) {
        if (inImage == null || wholeRoot || inImage.startsWith("/nix/store/")) {
            return inImage;
        }
        return "/nix/store" + inImage;
    }

    static void printText(Inspection i, PrintWriter out) {
        out.printf(Locale.ROOT, "image        %s (%s)%n", i.image(), switch (i.kind()) {
            case nixos -> "NixOS netboot build";
            case generic -> "generic image: a whole root file system";
            case kernel -> "a kernel and initrds alone, served without Pivot's stage 1";
        });
        out.printf(Locale.ROOT, "kernel       %s, %,d bytes, sha256 %s%n", i.kernel().file(), i.kernel().size(), i.kernel().sha256());
        out.printf(Locale.ROOT, "  version    %s%n", i.kernel().version() == null ? "(not in the file)" : i.kernel().version());
        out.printf(Locale.ROOT, "  signature  %s%n", i.kernel().secureBoot().verdict());
        if (i.kernel().secureBoot().advice() != null) {
            out.printf(Locale.ROOT, "  to do      %s%n", i.kernel().secureBoot().advice());
        }
        if (i.kind() == Kind.kernel) {
            for (Initrd initrd : i.initrds()) {
                out.printf(Locale.ROOT, "initrd       %s, %,d bytes, %d %s, served as %,d bytes, sha256 %s%n",
                        initrd.file(), initrd.size(), initrd.parts().size(),
                        initrd.parts().size() == 1 ? "part" : "parts", initrd.stage1Size(), initrd.stage1Sha256());
            }
            out.printf(Locale.ROOT, "cmdline      %s%n", i.kernelParams().isEmpty() ? "(none)"
                    : String.join(" ", i.kernelParams()));
            out.println("check        nothing to check: no root image");
            return;
        }
        out.printf(Locale.ROOT, "initrd       %s, %,d bytes, %d %s%n", i.initrd().file(), i.initrd().size(), i.initrd().parts().size(),
                i.initrd().parts().size() == 1 ? "part" : "parts");
        int n = 1;
        for (InitrdPart p : i.initrd().parts()) {
            out.printf(Locale.ROOT, "  part %-5d %s cpio, %d %s, bytes %d-%d%s%n", n++, p.compression(), p.entries(),
                    p.entries() == 1 ? "entry" : "entries", p.start(), p.end(),
                    p.rootImage() ? " (the root image, served on its own)" : "");
        }
        out.printf(Locale.ROOT, "  stage 1    %,d bytes, sha256 %s%n", i.initrd().stage1Size(), i.initrd().stage1Sha256());
        out.printf(Locale.ROOT, "root image   %s, %,d bytes, sha256 %s%n", i.rootImage().name(), i.rootImage().size(),
                i.rootImage().sha256());
        out.printf(Locale.ROOT, "init=        %s%n", i.init());
        if (i.initResolved() != null && !i.initResolved().equals(i.init())) {
            out.printf(Locale.ROOT, "  resolves   %s%n", i.initResolved());
        }
        out.printf(Locale.ROOT, "params       %s%n", i.kernelParams().isEmpty() ? "(none)" : String.join(" ", i.kernelParams()));
        for (Modules m : i.modules()) {
            out.printf(Locale.ROOT, "modules      %s %s: %d loadable, %d built in; Ethernet: %s%n", m.place(), m.location(),
                    m.loadable(), m.builtin(), m.ethernetDrivers().isEmpty() ? "none"
                            : String.join(", ", m.ethernetDrivers()));
        }
        out.printf(Locale.ROOT, "over NBD     %s (%s); dm-verity %s%n",
                !i.nbd().bootsOverNbd() ? "cannot boot" : i.nbd().known() ? "can boot" : "may boot",
                String.join(", ", i.nbd().modules().entrySet().stream().filter(e -> NbdReadiness.NEEDED
                        .contains(e.getKey())).map(e -> e.getKey() + ": " + e.getValue()).toList()),
                (i.nbd().verity() ? "yes, every block read is checked (" : "no (") + String.join(", ", i.nbd()
                        .modules().entrySet().stream().filter(e -> NbdReadiness.VERITY.contains(e.getKey()))
                        .map(e -> e.getKey() + ": " + e.getValue()).toList()) + ")");
        for (String note : i.nbd().notes()) {
            out.printf(Locale.ROOT, "  note       %s%n", note);
        }
        long errors = i.findings().stream().filter(f -> f.severity() == Finding.Severity.ERROR).count();
        long warnings = i.findings().size() - errors;
        if (i.findings().isEmpty()) {
            out.println("check        OK");
        } else {
            out.printf(Locale.ROOT, "check        %s%n", (i.ok() ? "OK with " : "FAILED: ") + count(errors, "error")
                    + (errors > 0 && warnings > 0 ? ", " : "") + count(warnings, "warning"));
            for (Finding f : i.findings()) {
                out.printf(Locale.ROOT, "  %-7s %s: %s%n", f.severity(), f.subject(), f.message());
            }
        }
    }

    private static String count(long n, String what) {
        return n == 0 ? "" : n + " " + what + (n == 1 ? "" : "s");
    }
}
