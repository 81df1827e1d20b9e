package dev.pivot.stage1;

import dev.pivot.boot.Artifact;
import dev.pivot.format.cpio.CpioWriter;
import dev.pivot.artifacts.ArtifactStore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Pivot's stage-1 prelude, loaded as the last initrd: a static busybox, /pivot/init (fetches the root image and
 * hands over to the image's own stage 1) and the udhcpc script. Deterministic: same inputs, same sha256 (cpio with
 * mtime 0 and fixed inode numbers; a gzip header with no name and mtime 0).
 */
public final class Prelude {

    public static final String NAME = "pivot.cpio.gz";
    /** Debian busybox-static's binary. */
    public static final Path DEFAULT_BUSYBOX = Path.of("/bin/busybox");
    static final String INIT_RESOURCE = "/dev/pivot/stage1/prelude/init";
    static final String UDHCPC_SCRIPT_RESOURCE = "/dev/pivot/stage1/prelude/udhcpc.script";

    /** Directories the prelude's init mounts on or works in; the kernel merges them with the image's own. */
    static final List<String> DIRECTORIES = List.of(Stage1Contract.PRELUDE_DIR, "dev", "proc", "sys", "run", "tmp",
            "mnt");

    private Prelude() {
    }

    public static Artifact build(ArtifactStore store) throws Stage1Exception {
        return build(store, DEFAULT_BUSYBOX);
    }

    public static Artifact build(ArtifactStore store, Path busybox) throws Stage1Exception {
        return build(store, busybox, new TreeMap<>());
    }

    /**
     * With {@code extraFiles} (archive path → bytes, e.g. NIC drivers taken from the root image under
     * pivot/modules/): the prelude then belongs to one image, and its sha256 changes with them.
     */
    public static Artifact build(ArtifactStore store, Path busybox, SortedMap<String, byte[]> extraFiles)
            throws Stage1Exception {
        return build(store, busybox, extraFiles, Set.of());
    }

    /**
     * For a kernel of {@code arch}: its static busybox ({@link CpuArch#busybox}), checked to be built for it, since
     * a busybox of another processor would only fail on the machine, after the kernel started.
     */
    public static Artifact build(ArtifactStore store, CpuArch arch, SortedMap<String, byte[]> extraFiles,
                                 Set<String> executables) throws Stage1Exception {
        Path busybox = arch.busybox();
        checkMachine(busybox, arch);
        return build(store, busybox, extraFiles, executables);
    }

    static void checkMachine(Path busybox, CpuArch arch) throws Stage1Exception {
        int machine;
        try {
            machine = StaticElf.machine(busybox);
        } catch (IOException e) {
            throw new Stage1Exception(busybox + ": not a usable busybox: " + e.getMessage(), e);
        }
        if (machine != arch.elfMachine()) {
            throw new Stage1Exception(busybox + ": built for another processor (ELF machine " + machine + "), but the"
                    + " kernel is " + arch.label() + " (machine " + arch.elfMachine() + "); install "
                    + arch.busyboxPackage());
        }
    }

    /** With {@code executables}: the extra files (paths as in {@code extraFiles}) that get mode 0755. */
    public static Artifact build(ArtifactStore store, Path busybox, SortedMap<String, byte[]> extraFiles,
                                 Set<String> executables) throws Stage1Exception {
        checkBusybox(busybox);
        byte[] init = resource(INIT_RESOURCE);
        byte[] udhcpcScript = resource(UDHCPC_SCRIPT_RESOURCE);
        return write(store, NAME, cpio -> {
            for (String dir : DIRECTORIES) {
                cpio.directory(dir, 0755);
            }
            cpio.charDevice("dev/console", 0600, 5, 1);
            cpio.file(Stage1Contract.BUSYBOX_FILE, 0755, busybox);
            cpio.file(Stage1Contract.INIT_FILE, 0755, init);
            cpio.file(Stage1Contract.UDHCPC_SCRIPT_FILE, 0755, udhcpcScript);
            files(cpio, new HashSet<>(DIRECTORIES), extraFiles, executables);
        });
    }

    /**
     * An initrd loaded after the prelude that adds {@code files} to it (the kernel unpacks initrds in order, a later
     * file replacing an earlier one of the same path). Deterministic like the prelude.
     */
    public static Artifact addOn(ArtifactStore store, String name, SortedMap<String, byte[]> files,
                                 Set<String> executables) throws Stage1Exception {
        return write(store, name, cpio -> files(cpio, new HashSet<>(), files, executables));
    }

    private interface Entries {
        void write(CpioWriter cpio) throws IOException;
    }

    private static Artifact write(ArtifactStore store, String name, Entries entries) throws Stage1Exception {
        try {
            return store.write(name, true, out -> {
                GZIPOutputStream gzip = new GZIPOutputStream(out, 64 * 1024) {
                    {
                        def.setLevel(Deflater.BEST_COMPRESSION);
                    }
                };
                CpioWriter cpio = new CpioWriter(gzip);
                entries.write(cpio);
                cpio.finish();
                gzip.finish();
            });
        } catch (IOException e) {
            throw new Stage1Exception(name + ": cannot build the initrd: " + e.getMessage(), e);
        }
    }

    private static void files(CpioWriter cpio, Set<String> made, SortedMap<String, byte[]> files,
                              Set<String> executables) throws IOException {
        // The kernel's unpacker does not create parents: each directory comes before its files.
        for (var e : files.entrySet()) {
            String path = e.getKey();
            for (int i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
                if (made.add(path.substring(0, i))) {
                    cpio.directory(path.substring(0, i), 0755);
                }
            }
            cpio.file(path, executables.contains(path) ? 0755 : 0644, e.getValue());
        }
    }

    private static void checkBusybox(Path busybox) throws Stage1Exception {
        if (!Files.isRegularFile(busybox)) {
            throw new Stage1Exception(busybox + ": no such file (install Debian's busybox-static, or pass --busybox)");
        }
        Optional<String> interpreter;
        try {
            interpreter = StaticElf.interpreter(busybox);
        } catch (IOException e) {
            throw new Stage1Exception(busybox + ": not a usable busybox: " + e.getMessage(), e);
        }
        if (interpreter.isPresent()) {
            throw new Stage1Exception(busybox + ": dynamically linked (needs " + interpreter.get()
                    + "), but stage 1 has no libraries; use a static busybox (Debian busybox-static)");
        }
    }

    private static byte[] resource(String name) throws Stage1Exception {
        try (InputStream in = Prelude.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new Stage1Exception(NAME + ": resource " + name + " is missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new Stage1Exception(NAME + ": cannot read resource " + name + ": " + e.getMessage(), e);
        }
    }
}
