package dev.pivot.image;

import dev.pivot.format.squashfs.SquashfsImage;

import dev.pivot.stage1.Stage1Contract;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * NIC drivers Pivot takes out of the root image's module tree when the image's stage-1 initrd has none, so the
 * prelude can bring the network up anyway ("fetch mode"). They go into the prelude under
 * {@code /pivot/modules/RELEASE/} with their own modules.dep and modules.alias (only the lines for these
 * modules): the image's own /lib/modules/RELEASE/modules.dep must stay as it is, since its stage 1 needs it.
 *
 * @param release the kernel release ("6.1.0-56-amd64")
 * @param source  where the modules came from in the root image
 * @param modules the module names taken (drivers and their dependencies), sorted
 * @param files   the module files read (all but those the caller said were packed already), paths relative to the
 *                release directory
 * @param modulesDep   a modules.dep for exactly the modules taken (read or not)
 * @param modulesAlias the source's modules.alias lines for these modules
 */
public record Stage1Drivers(String release, String source, Set<String> modules, List<ModuleFile> files,
                            String modulesDep, String modulesAlias) {

    /**
     * Ethernet drivers for the machines people netboot (virtual and common physical NICs), and the bus drivers
     * that make virtio NICs appear at all. A few MB at most, unlike all of drivers/net.
     */
    public static final List<String> DEFAULT_DRIVERS = List.of("virtio_pci", "virtio_net", "e1000", "e1000e", "igb",
            "igc", "r8169", "ixgbe", "tg3", "bnx2", "vmxnet3", "hv_netvsc", "xen_netfront");

    public record ModuleFile(String relativePath, byte[] content) {
    }

    public Stage1Drivers {
        modules = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(modules));
        files = List.copyOf(files);
    }

    /** Every file for the prelude's cpio, path relative to the archive root. */
    public List<ModuleFile> preludeFiles() {
        List<ModuleFile> out = new ArrayList<>();
        for (ModuleFile f : files) {
            out.add(new ModuleFile(preludePath(f.relativePath()), f.content()));
        }
        out.add(new ModuleFile(preludePath("modules.dep"), modulesDep.getBytes(StandardCharsets.UTF_8)));
        out.add(new ModuleFile(preludePath("modules.alias"), modulesAlias.getBytes(StandardCharsets.UTF_8)));
        return out;
    }

    /** Where a file of the release directory goes in the cpio. */
    public String preludePath(String relativePath) {
        // The prelude's init searches this directory after the image's own /lib/modules.
        return Stage1Contract.MODULE_DIR + "/" + release + "/" + relativePath;
    }

    /** Total bytes of module files, for messages. */
    public long moduleBytes() {
        return files.stream().mapToLong(f -> f.content().length).sum();
    }

    /**
     * The drivers to pack when the check found no NIC driver in the stage-1 initrd, or empty when the initrd has
     * one (or a NIC driver is built in), or the root image has no module tree to take them from.
     */
    public static Optional<Stage1Drivers> whenNeeded(ImageCheckResult check, Path rootImage) throws IOException {
        return whenNeeded(check, rootImage, List.of());
    }

    /**
     * As {@link #whenNeeded(ImageCheckResult, Path)}, plus the {@code alsoWanted} modules (nbd for the NBD root
     * transport) that the initrd lacks and the kernel does not have built in.
     */
    public static Optional<Stage1Drivers> whenNeeded(ImageCheckResult check, Path rootImage, List<String> alsoWanted)
            throws IOException {
        return whenNeeded(check, rootImage, alsoWanted, Set.of());
    }

    /**
     * As {@link #whenNeeded(ImageCheckResult, Path, List)}, without reading the files of the {@code packed} modules
     * (another initrd has them already): modules.dep and modules.alias still cover every module taken, so that they
     * can replace that initrd's.
     */
    public static Optional<Stage1Drivers> whenNeeded(ImageCheckResult check, Path rootImage, List<String> alsoWanted,
                                                     Set<String> packed) throws IOException {
        Set<String> chosen = modulesNeeded(check, alsoWanted);
        if (chosen.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(take(check.storeModules(), rootImage, check.release(), chosen, packed));
    }

    /**
     * The names of the modules {@link #whenNeeded(ImageCheckResult, Path, List)} takes (with everything they depend
     * on), without reading them; empty when it takes none.
     */
    public static Set<String> modulesNeeded(ImageCheckResult check, List<String> alsoWanted) {
        ModuleTree initrd = check.initrdModules();
        ModuleTree store = check.storeModules();
        if (check.release() == null || store == null) {
            return Set.of();
        }
        boolean initrdHasNic = initrd != null && !initrd.ethernetDrivers().isEmpty();
        boolean builtinNic = store.builtin().keySet().stream().anyMatch(store.ethernetDrivers()::contains);
        List<String> wanted = new ArrayList<>();
        if (!initrdHasNic && !builtinNic) {
            wanted.addAll(DEFAULT_DRIVERS);
        }
        for (String m : alsoWanted) {
            boolean inInitrd = initrd != null && initrd.modules().containsKey(m);
            if (!inInitrd && !store.builtin().containsKey(m)) {
                wanted.add(m);
            }
        }
        return withDependencies(store, wanted);
    }

    /** The {@code wanted} modules the store has, with everything they depend on (per its modules.dep). */
    static Set<String> withDependencies(ModuleTree store, List<String> wanted) {
        Set<String> chosen = new TreeSet<>();
        Deque<String> todo = new ArrayDeque<>(wanted.stream().filter(store.modules()::containsKey).toList());
        while (!todo.isEmpty()) {
            String m = todo.pop();
            if (store.modules().containsKey(m) && chosen.add(m)) {
                todo.addAll(store.depends().getOrDefault(m, List.of()));
            }
        }
        return chosen;
    }

    /** The {@code wanted} modules the store has, with everything they depend on (per its modules.dep). */
    public static Optional<Stage1Drivers> take(ModuleTree store, Path rootImage, String release, List<String> wanted)
            throws IOException {
        Set<String> chosen = withDependencies(store, wanted);
        return chosen.isEmpty() ? Optional.empty() : Optional.of(take(store, rootImage, release, chosen, Set.of()));
    }

    /**
     * Reads the {@code chosen} modules (dependencies included) out of the root image, but for the {@code packed}
     * ones, with the indexes for all of them.
     */
    private static Stage1Drivers take(ModuleTree store, Path rootImage, String release, Set<String> chosen,
                                      Set<String> packed) throws IOException {
        List<ModuleFile> files = new ArrayList<>();
        StringBuilder dep = new StringBuilder();
        try (SquashfsImage sq = SquashfsImage.open(rootImage)) {
            for (String m : chosen) {
                String rel = store.modules().get(m);
                if (!packed.contains(m)) {
                    files.add(new ModuleFile(rel, sq.readAll(store.location() + "/" + rel)));
                }
                dep.append(rel).append(':');
                for (String d : store.depends().getOrDefault(m, List.of())) {
                    if (store.modules().containsKey(d)) {
                        dep.append(' ').append(store.modules().get(d));
                    }
                }
                dep.append('\n');
            }
            String alias = "";
            if (store.indexes().contains("modules.alias")) {
                alias = aliasLines(new String(sq.readAll(store.location() + "/modules.alias"),
                        StandardCharsets.UTF_8), chosen);
            }
            return new Stage1Drivers(release, store.location(), chosen, files, dep.toString(), alias);
        }
    }

    /** The "alias PATTERN MODULE" lines whose module is one of {@code modules} (names compared with _ for -). */
    static String aliasLines(String modulesAlias, Set<String> modules) {
        Set<String> names = new LinkedHashSet<>();
        modules.forEach(m -> names.add(m.replace('-', '_')));
        StringBuilder out = new StringBuilder();
        for (String line : modulesAlias.lines().toList()) {
            String[] words = line.strip().split("\\s+");
            if (words.length == 3 && words[0].equals("alias") && names.contains(words[2].replace('-', '_'))) {
                out.append(line.strip()).append('\n');
            }
        }
        return out.toString();
    }
}
