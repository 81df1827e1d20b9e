package dev.pivot.image;

import dev.pivot.boot.ArtifactSource;
import dev.pivot.format.FileSlice;
import dev.pivot.format.squashfs.DirectoryEntry;
import dev.pivot.format.squashfs.Inode;
import dev.pivot.format.squashfs.SquashfsException;
import dev.pivot.format.squashfs.SquashfsImage;
import dev.pivot.format.cpio.CpioEntry;
import dev.pivot.format.cpio.CpioReader;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks an imported image before anything boots it, so a machine does not hang in stage 1 for a reason that
 * was visible in the files: init= missing from the root image or not executable, the kernel and the initrd's
 * modules of different releases, and the modules Pivot's prelude needs (loop, squashfs, overlay, af_packet, an
 * Ethernet driver) missing from the stage-1 initrd.
 */
public final class ImageCheck {

    /** Modules Pivot's stage 1 loads from the image's initrd, and why. */
    private static final Map<String, String> REQUIRED = requiredModules();
    private static final List<String> COMMON_NICS = List.of("virtio_net", "e1000", "e1000e", "igb", "igc", "r8169",
            "ixgbe", "tg3", "bnx2", "vmxnet3");
    private static final Pattern MODULE_PATH = Pattern.compile("(?:^|.*/)lib/modules/([^/]+)/(.+)");
    private static final String AVAILABLE = "boot.initrd.availableKernelModules";
    /** Where a generic image's initrd gets a module: no NixOS option to name. */
    private static final String GENERIC_ADD = "the initrd's modules (and run depmod for it)";
    /** Where a whole root file system keeps its modules: the classic path and the merged-/usr one. */
    private static final List<String> STANDARD_MODULE_DIRS = List.of("/lib/modules/", "/usr/lib/modules/");
    private static final int MAX_TREE_DEPTH = 12;
    private static final long MAX_INDEX_SIZE = 8L << 20;

    private ImageCheck() {
    }

    private static boolean isArm64(Path kernel) {
        try {
            return KernelArch.of(kernel).filter(a -> a == dev.pivot.stage1.CpuArch.ARM64).isPresent();
        } catch (IOException e) {
            return false;
        }
    }

    private static Map<String, String> requiredModules() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("af_packet", "the DHCP client (udhcpc) needs it");
        m.put("loop", "needed to mount the root image file");
        m.put("squashfs", "needed to mount the root image");
        m.put("overlay", "needed for the writable /nix/store");
        return m;
    }

    public static ImageCheckResult check(ImportedImage image, ArtifactSource store) {
        return check(store.path(image.kernel()), store.path(image.stage1Initrd()), store.path(image.rootImage()),
                image.init(), image.wholeRoot());
    }

    /** A NixOS store image when init= is in /nix/store, else a whole root file system. */
    public static ImageCheckResult check(Path kernel, Path stage1, Path rootImage, String init) {
        return check(kernel, stage1, rootImage, init, !init.startsWith("/nix/store/"));
    }

    /**
     * @param kernel    the bzImage
     * @param stage1    the image's stage-1 initrd (without the root image)
     * @param rootImage the squashfs root image
     * @param init      the init= path
     * @param wholeRoot the root image is a whole root file system (a generic image: modules in /lib/modules or
     *                  /usr/lib/modules, any init), not a NixOS store (the store paths at its root)
     */
    public static ImageCheckResult check(Path kernel, Path stage1, Path rootImage, String init, boolean wholeRoot) {
        List<Finding> findings = new ArrayList<>();
        Wording words = wholeRoot ? new Wording(GENERIC_ADD, "the root image")
                : new Wording(AVAILABLE, "the image's store");

        KernelVersion version = null;
        try {
            version = KernelVersion.read(kernel).orElse(null);
        } catch (IOException e) {
            findings.add(Finding.error("kernel", "cannot read the kernel " + kernel + ": " + e.getMessage()));
        }

        Map<String, ModuleTree.Builder> initrdTrees = Map.of();
        try {
            initrdTrees = initrdModules(stage1);
        } catch (ImageException | IOException e) {
            findings.add(Finding.error("initrd", "cannot read the stage-1 initrd: " + e.getMessage()));
        }

        String release = version != null ? version.release() : null;
        if (version == null && findings.stream().noneMatch(f -> f.subject().equals("kernel"))) {
            release = initrdTrees.size() == 1 ? initrdTrees.keySet().iterator().next() : null;
            // An arm64 Image's header has no version string at all: the initrd's module tree is the normal way there.
            if (release == null || !isArm64(kernel)) {
                findings.add(Finding.warning("kernel", "the kernel " + kernel.getFileName() + " has no x86 setup"
                        + " header with a version string" + (release == null ? "; the module checks are skipped"
                        : "; the module checks use the initrd's lib/modules/" + release)));
            }
        }

        ModuleTree initrd = null;
        if (release != null && initrdTrees.containsKey(release)) {
            initrd = initrdTrees.get(release).build();
        } else if (release != null && !initrdTrees.isEmpty()) {
            findings.add(Finding.error("initrd", "the initrd's modules are for kernel " + String.join(", ",
                    initrdTrees.keySet()) + " but the kernel is " + release
                    + ": they will not load (the initrd and the kernel come from different builds)"));
        } else if (release != null) {
            findings.add(Finding.warning("initrd", "the initrd has no lib/modules/" + release
                    + ": stage 1 has only the drivers built into the kernel"));
        }

        String initPath = null;
        ModuleTree storeTree = null;
        try (SquashfsImage sq = SquashfsImage.open(rootImage)) {
            initPath = checkInit(sq, init, wholeRoot, findings);
            if (release != null) {
                storeTree = rootModules(sq, release, init, wholeRoot);
                if (storeTree == null) {
                    findings.add(Finding.warning("root-image", "no " + (wholeRoot
                            ? "/lib/modules/" + release + " or /usr/lib/modules/" + release
                            : "lib/modules/" + release + " in any store path") + " in the root image: the"
                            + " booted system cannot load kernel modules (was the image built with this kernel?)"));
                }
            }
        } catch (SquashfsException e) {
            boolean unsupported = e.getMessage().contains("unsupported compression");
            findings.add(unsupported
                    ? Finding.warning("root-image", "cannot look inside the root image, so init= and its modules"
                    + " are not checked: " + e.getMessage())
                    : Finding.error("root-image", "the root image is unreadable: " + e.getMessage()));
        } catch (IOException e) {
            findings.add(Finding.error("root-image", "cannot read the root image " + rootImage + ": " + e.getMessage()));
        }

        if (release != null) {
            checkModules(release, initrd, storeTree, words, findings);
        }
        return new ImageCheckResult(version == null ? null : version.full(), release, initPath, initrd, storeTree,
                findings);
    }

    // ---- init= ---------------------------------------------------------------------------------------------

    private static String checkInit(SquashfsImage sq, String init, boolean wholeRoot, List<Finding> findings)
            throws IOException {
        if (!wholeRoot && !init.startsWith("/nix/store/")) {
            findings.add(Finding.warning("init", "init=" + init + " is outside /nix/store, but the root image holds"
                    + " only the store; it is looked up at the image's root"));
        }
        SquashfsImage.Resolved r;
        try {
            r = sq.resolve(init, true);
        } catch (SquashfsException e) {
            findings.add(Finding.error("init", "init=" + init + " cannot be resolved: " + e.getMessage()));
            return null;
        }
        if (!r.exists()) {
            findings.add(Finding.error("init", "init=" + init + " is not in the root image (" + r.problem()
                    + (wholeRoot ? "): name the root image's init with --init or pivot.yaml's init:"
                    : "): is netboot.ipxe from the same build as the initrd?")));
            return null;
        }
        String shown = r.realPath().equals(stripStore(init)) ? "" : " (→ /nix/store" + r.realPath() + ")";
        if (!(r.inode() instanceof Inode.RegularFile file)) {
            findings.add(Finding.error("init", "init=" + init + shown + " is not a program but a "
                    + kind(r.inode())));
            return r.realPath();
        }
        if (!file.executable()) {
            findings.add(Finding.error("init", "init=" + init + shown + " is not executable (mode "
                    + String.format("%04o", file.attributes().permissions()) + ")"));
            return r.realPath();
        }
        checkInterpreter(sq, init, file, findings);
        return r.realPath();
    }

    /** A script's "#!" interpreter must be in the image too (NixOS's init is a shell script). */
    private static void checkInterpreter(SquashfsImage sq, String init, Inode.RegularFile file, List<Finding> findings)
            throws IOException {
        byte[] head;
        try (InputStream in = sq.open(file)) {
            head = in.readNBytes(256);
        }
        if (head.length < 2 || head[0] != '#' || head[1] != '!') {
            return;
        }
        String line = new String(head, 2, head.length - 2, StandardCharsets.UTF_8).lines().findFirst().orElse("")
                .strip();
        String interpreter = line.split("\\s+", 2)[0];
        if (interpreter.isEmpty()) {
            findings.add(Finding.error("init", "init=" + init + " starts with \"#!\" but names no interpreter"));
            return;
        }
        if (!interpreter.startsWith("/nix/store/")) {
            return; // e.g. /bin/sh: provided by the booted system, not checkable here
        }
        SquashfsImage.Resolved r = sq.resolve(interpreter, true);
        if (!r.exists() || !(r.inode() instanceof Inode.RegularFile) || !r.inode().executable()) {
            findings.add(Finding.error("init", "init=" + init + " is a script for " + interpreter + ", which "
                    + (r.exists() ? "is not an executable file" : "is not in the root image (" + r.problem() + ")")));
        }
    }

    private static String stripStore(String path) {
        return path.startsWith("/nix/store/") ? path.substring("/nix/store".length()) : path;
    }

    private static String kind(Inode inode) {
        return switch (inode) {
            case Inode.Directory d -> "directory";
            case Inode.Symlink s -> "symlink";
            case Inode.Device d -> d.block() ? "block device" : "character device";
            case Inode.Special s -> s.socket() ? "socket" : "fifo";
            case Inode.RegularFile f -> "file";
        };
    }

    // ---- modules -------------------------------------------------------------------------------------------

    /** How findings name the fix and the root image: a NixOS option and store, or a generic image's initrd and root. */
    private record Wording(String addTo, String root) {
    }

    private static void checkModules(String release, ModuleTree initrd, ModuleTree store, Wording words,
                                     List<Finding> findings) {
        String addTo = words.addTo();
        if (initrd != null && !initrd.modules().isEmpty()) {
            if (!initrd.indexes().contains("modules.dep")) {
                findings.add(Finding.error("initrd", "the initrd's " + initrd.location() + " has no modules.dep, so"
                        + " stage 1 cannot load its modules (build the initrd with depmod, as NixOS does)"));
            } else if (!initrd.indexes().contains("modules.alias")) {
                findings.add(Finding.warning("initrd", "the initrd's " + initrd.location() + " has no modules.alias,"
                        + " so Pivot's stage 1 cannot tell which NIC driver to load"));
            }
            Set<String> checked = new java.util.TreeSet<>(initrd.ethernetDrivers());
            REQUIRED.keySet().stream().filter(initrd.modules()::containsKey).forEach(checked::add);
            for (String module : checked) {
                List<String> missing = initrd.missingDependencies(module);
                if (!missing.isEmpty()) {
                    findings.add(Finding.error("module:" + module, module + " needs " + String.join(", ", missing)
                            + ", which " + (missing.size() == 1 ? "is" : "are") + " not in the initrd: add "
                            + missing.stream().map(m -> "\"" + m + "\"").collect(java.util.stream.Collectors
                            .joining(", ")) + " to " + addTo));
                }
            }
        }
        for (Map.Entry<String, String> required : REQUIRED.entrySet()) {
            String module = required.getKey();
            boolean builtin = (initrd != null && initrd.isBuiltin(module)) || (store != null && store.isBuiltin(module));
            if (builtin || (initrd != null && initrd.has(module))) {
                continue;
            }
            if (store != null && store.modules().containsKey(module)) {
                findings.add(Finding.error("module:" + module, module + " is not in the initrd (" + required.getValue()
                        + "): add \"" + module + "\" to " + addTo + " (" + words.root() + " has it: "
                        + store.location() + "/" + store.modules().get(module) + ")"));
            } else {
                findings.add(Finding.error("module:" + module, "kernel " + release + " has no " + module
                        + " support (" + required.getValue() + "): it is neither built in nor a module in the"
                        + " initrd" + (store != null ? " or " + words.root() : "")
                        + "; enable it in the kernel config"));
            }
        }
        Set<String> initrdNics = initrd == null ? Set.of() : initrd.ethernetDrivers();
        boolean builtinNic = store != null && store.builtin().keySet().stream()
                .anyMatch(store.ethernetDrivers()::contains);
        if (initrdNics.isEmpty() && !builtinNic) {
            Set<String> storeNics = store == null ? Set.of() : store.ethernetDrivers();
            findings.add(Finding.error("ethernet", "no Ethernet driver in the initrd: add your NIC's module to "
                    + addTo + (storeNics.isEmpty()
                    ? " (" + words.root() + " has no Ethernet drivers either: enable your NIC's driver in the kernel)"
                    : " (found in " + words.root() + ": " + ModuleTree.sample(storeNics, COMMON_NICS, 8) + ")")));
        }
    }

    /** Module trees in the stage-1 initrd by kernel release: any …/lib/modules/RELEASE/ in any of its archives. */
    static Map<String, ModuleTree.Builder> initrdModules(Path stage1) throws ImageException, IOException {
        Map<String, ModuleTree.Builder> trees = new LinkedHashMap<>();
        List<InitrdSegment> segments = InitrdSplitter.segments(stage1);
        try (FileChannel channel = FileChannel.open(stage1, StandardOpenOption.READ)) {
            for (InitrdSegment segment : segments) {
                InputStream raw = new FileSlice(channel, segment.start(), segment.end());
                try (InputStream in = segment.compression().open(raw)) {
                    CpioReader reader = CpioReader.allArchives(in, stage1 + " (archive at offset "
                            + segment.start() + ")");
                    CpioEntry entry;
                    while ((entry = reader.next()) != null) {
                        Matcher m = MODULE_PATH.matcher(entry.path());
                        if (!entry.isRegularFile() || !m.matches()) {
                            continue;
                        }
                        String release = m.group(1);
                        String relative = m.group(2);
                        ModuleTree.Builder tree = trees.computeIfAbsent(release,
                                r -> new ModuleTree.Builder("initrd", "/lib/modules/" + r));
                        if (relative.equals("modules.builtin") && entry.size() <= MAX_INDEX_SIZE) {
                            tree.builtin(new String(reader.body().readAllBytes(), StandardCharsets.UTF_8));
                        } else if (relative.equals("modules.dep") && entry.size() <= MAX_INDEX_SIZE) {
                            tree.depends(new String(reader.body().readAllBytes(), StandardCharsets.UTF_8));
                        } else {
                            tree.file(relative);
                        }
                    }
                }
            }
        }
        return trees;
    }

    /**
     * The root image's module tree for {@code release}. A whole root file system keeps it in /lib/modules/RELEASE
     * or /usr/lib/modules/RELEASE. A NixOS store: the system's own {@code kernel-modules} (beside init= in the
     * toplevel: the kernel's modules plus any extra module packages), else &lt;hash&gt;-linux-RELEASE-modules, else
     * any store path with a lib/modules/RELEASE inside.
     */
    static ModuleTree rootModules(SquashfsImage sq, String release, String init, boolean wholeRoot) throws IOException {
        List<String> candidates = new ArrayList<>();
        if (wholeRoot) {
            STANDARD_MODULE_DIRS.forEach(d -> candidates.add(d + release));
        }
        int slash = init.lastIndexOf('/');
        if (!wholeRoot && slash > 0) {
            candidates.add(init.substring(0, slash) + "/kernel-modules/lib/modules/" + release);
        }
        if (wholeRoot) {
            return firstTree(sq, candidates);
        }
        List<String> names = new ArrayList<>(sq.list(sq.root()).stream().map(DirectoryEntry::name).toList());
        String preferred = "-linux-" + release + "-modules";
        names.sort(Comparator.comparingInt((String n) -> n.endsWith(preferred) ? 0 : n.contains("modules") ? 1 : 2));
        names.forEach(name -> candidates.add("/nix/store/" + name + "/lib/modules/" + release));
        return firstTree(sq, candidates);
    }

    private static ModuleTree firstTree(SquashfsImage sq, List<String> candidates) throws IOException {
        for (String dir : candidates) {
            Optional<Inode> inode = sq.lookup(dir);
            if (inode.isPresent() && inode.get() instanceof Inode.Directory) {
                ModuleTree.Builder tree = new ModuleTree.Builder("root image", dir);
                walk(sq, dir, "", 0, tree);
                if (!tree.isEmpty()) {
                    return tree.build();
                }
            }
        }
        return null;
    }

    private static void walk(SquashfsImage sq, String dir, String relative, int depth, ModuleTree.Builder tree)
            throws IOException {
        if (depth > MAX_TREE_DEPTH) {
            return;
        }
        for (DirectoryEntry e : sq.list(dir + relative)) {
            String path = relative + "/" + e.name();
            Inode inode = e.isSymlink() ? sq.lookup(dir + path).orElse(null) : sq.inode(e.inode());
            if (inode instanceof Inode.Directory) {
                walk(sq, dir, path, depth + 1, tree);
            } else if (inode instanceof Inode.RegularFile file) {
                if (path.equals("/modules.builtin") && file.size() <= MAX_INDEX_SIZE) {
                    tree.builtin(new String(sq.readAll(file), StandardCharsets.UTF_8));
                } else if (path.equals("/modules.dep") && file.size() <= MAX_INDEX_SIZE) {
                    tree.depends(new String(sq.readAll(file), StandardCharsets.UTF_8));
                } else {
                    tree.file(path.substring(1));
                }
            }
        }
    }
}
