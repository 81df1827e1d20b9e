package dev.pivot.image;

import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSource;

import dev.pivot.stage1.Stage1Contract;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Imports a generic (non-NixOS) image: a kernel, an initrd with its modules, and a squashfs of the whole root file
 * system, without a netboot.ipxe. Pivot's prelude builds the root itself (pivot.mode=layout: squashfs ro, tmpfs
 * rw, an overlay of both as /) and switch_roots to init (default {@value #DEFAULT_INIT}).
 *
 * <p>File names are found by convention (vmlinuz, bzImage or linux; initrd, initrd.img or initrd.gz; root.squashfs)
 * or named in an optional {@value #MANIFEST} of {@code key: value} lines: kernel, initrd, squashfs, init, cmdline.
 * A {@value #MANIFEST} in a directory without a root image ({@link #kernelOnly}) is a plain kernel + initrds boot:
 * its {@code initrd:} may name several files, in load order, separated by blanks.
 */
public final class GenericImport {

    public static final String MANIFEST = "pivot.yaml";
    public static final String DEFAULT_INIT = "/sbin/init";
    private static final String MODE_PARAM = Stage1Contract.MODE.is(Stage1Contract.LAYOUT_MODE);
    public static final String ROOT_NAME = "root.squashfs";
    private static final List<String> KERNELS = List.of("vmlinuz", "bzImage", "linux");
    private static final List<String> INITRDS = List.of("initrd", "initrd.img", "initrd.gz");
    private static final Set<String> KEYS = Set.of("kernel", "initrd", "squashfs", "init", "cmdline");

    private GenericImport() {
    }

    /** A directory Pivot treats as generic: no netboot.ipxe, but a root.squashfs or a pivot.yaml. */
    public static boolean isGeneric(Path dir) {
        return !Files.exists(dir.resolve(NetbootImport.SCRIPT))
                && (Files.exists(dir.resolve(ROOT_NAME)) || Files.exists(dir.resolve(MANIFEST)));
    }

    /**
     * The kernel, initrds and command line of a directory whose {@value #MANIFEST} names no squashfs, when it has no
     * {@value #ROOT_NAME} either: served as they are, without Pivot's stage 1. Empty for an image with a root.
     */
    public static Optional<BootSource.KernelFiles> kernelOnly(Path dir) throws ImageException {
        Path file = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(file) || Files.exists(dir.resolve(ROOT_NAME))) {
            return Optional.empty();
        }
        Map<String, String> manifest = manifest(file);
        if (manifest.containsKey("squashfs")) {
            return Optional.empty();
        }
        if (manifest.containsKey("init")) {
            throw new ImageException(file + ": init is for an image with a root image (squashfs), and this one names"
                    + " none; for a kernel and initrds alone put init=… into cmdline");
        }
        Path kernel = file(dir, "kernel", manifest.get("kernel"), KERNELS);
        List<Path> initrds = new ArrayList<>();
        String named = manifest.get("initrd");
        if (named == null) {
            INITRDS.stream().map(dir::resolve).filter(Files::isRegularFile).findFirst().ifPresent(initrds::add);
        } else {
            for (String one : named.strip().split("\s+")) {
                initrds.add(file(dir, "initrd", one, INITRDS));
            }
        }
        return Optional.of(new BootSource.KernelFiles(kernel, initrds,
                BootSource.KernelFiles.words(manifest.get("cmdline"))));
    }

    /**
     * @param initOverride init from the command line (wins over the manifest), or null
     */
    public static ImportedImage importDir(Path dir, ArtifactStore store, String initOverride) throws ImageException {
        if (!Files.isDirectory(dir)) {
            throw new ImageException(dir + ": no such directory");
        }
        Map<String, String> manifest = manifest(dir.resolve(MANIFEST));
        Path kernel = file(dir, "kernel", manifest.get("kernel"), KERNELS);
        Path initrd = file(dir, "initrd", manifest.get("initrd"), INITRDS);
        Path root = file(dir, "squashfs", manifest.get("squashfs"), List.of(ROOT_NAME));
        String init = initOverride != null ? initOverride : manifest.getOrDefault("init", DEFAULT_INIT);
        if (!init.startsWith("/")) {
            throw new ImageException((initOverride != null ? "--init " : dir.resolve(MANIFEST) + ": init ") + init
                    + ": not an absolute path");
        }
        List<String> args = new ArrayList<>(List.of(MODE_PARAM));
        Arrays.stream(manifest.getOrDefault("cmdline", "").trim().split("\\s+")).filter(a -> !a.isEmpty())
                .forEach(args::add);
        try {
            Artifact k;
            try (InputStream in = Files.newInputStream(kernel)) {
                k = store.put(in, kernel.getFileName().toString());
            }
            Artifact i;
            try (InputStream in = Files.newInputStream(initrd)) {
                i = store.putPadded4(in, NetbootImport.STAGE1_NAME);
            }
            Artifact r;
            try (InputStream in = Files.newInputStream(root)) {
                r = store.put(in, ROOT_NAME);
            }
            checkSquashfs(root);
            return new ImportedImage(k, i, r, init, args, dir);
        } catch (IOException e) {
            throw new ImageException(dir + ": import failed: " + e.getMessage(), e);
        }
    }

    /** The initrd file a generic image's import reads ({@value #MANIFEST}'s, or by convention). */
    public static Path initrdFile(Path dir) throws ImageException {
        return file(dir, "initrd", manifest(dir.resolve(MANIFEST)).get("initrd"), INITRDS);
    }

    private static void checkSquashfs(Path root) throws ImageException, IOException {
        try (InputStream in = Files.newInputStream(root)) {
            byte[] magic = in.readNBytes(4);
            if (!Arrays.equals(magic, "hsqs".getBytes(StandardCharsets.US_ASCII))) {
                throw new ImageException(root + ": not a squashfs (no \"hsqs\" magic)");
            }
        }
    }

    static Map<String, String> manifest(Path file) throws ImageException {
        Map<String, String> m = new LinkedHashMap<>();
        if (!Files.exists(file)) {
            return m;
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ImageException(file + ": cannot read: " + e.getMessage(), e);
        }
        int n = 0;
        for (String line : lines) {
            n++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            int colon = t.indexOf(':');
            String key = colon < 0 ? "" : t.substring(0, colon).strip();
            if (!KEYS.contains(key)) {
                throw new ImageException(file + " line " + n + ": expected 'KEY: value' with KEY one of "
                        + String.join(", ", KEYS.stream().sorted().toList()) + ", got '" + t + "'");
            }
            String value = t.substring(colon + 1).strip();
            if (value.length() >= 2 && (value.startsWith("\"") && value.endsWith("\"")
                    || value.startsWith("'") && value.endsWith("'"))) {
                value = value.substring(1, value.length() - 1);
            }
            m.put(key, value);
        }
        return m;
    }

    private static Path file(Path dir, String what, String named, List<String> conventional) throws ImageException {
        if (named != null) {
            Path f = dir.resolve(named).normalize();
            if (!f.startsWith(dir.normalize()) || !Files.isRegularFile(f)) {
                throw new ImageException(dir.resolve(MANIFEST) + ": " + what + " " + named + " is not a file in " + dir);
            }
            return f;
        }
        Optional<Path> found = conventional.stream().map(dir::resolve).filter(Files::isRegularFile).findFirst();
        return found.orElseThrow(() -> new ImageException(dir + ": no " + what + " (looked for "
                + String.join(", ", conventional) + "; or name it in " + MANIFEST + ")"));
    }
}
