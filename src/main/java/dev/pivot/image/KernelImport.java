package dev.pivot.image;

import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSource;
import dev.pivot.boot.BootSpec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A kernel, its initrds and a command line, served as they are: what installers, rescue systems and memtest need,
 * and what pixiecore's {@code boot KERNEL INITRD --cmdline} does. No Pivot stage 1 and no root image: the machine
 * gets the kernel, the initrds in the order given and exactly the operator's parameters.
 *
 * <p>{@link #check} reads the start of every file, so a missing, unreadable or swapped file is named before
 * anything is imported or started.
 */
public final class KernelImport {

    /** "HdrS" at 0x202: the x86 boot protocol's setup header (bzImage, memtest86+). */
    private static final int X86_HEADER = 0x202;
    /** "ARM\x64" at 0x38: the arm64 Image header. */
    private static final int ARM64_MAGIC = 0x38;
    private static final int HEAD = 0x210;

    private KernelImport() {
    }

    /**
     * Checks that every file exists, is a readable regular file and is not empty, that the kernel looks like a
     * kernel, and that each parameter can be passed as one word. Messages start with {@code prefix} and the role:
     * {@code "--"} gives "--kernel linux: no such file", "profile x: " gives "profile x: initrd a.gz: empty file".
     */
    public static void check(BootSource.KernelFiles files, String prefix) throws ImageException {
        byte[] head = readHead(files.kernel(), prefix + "kernel");
        if (!looksLikeKernel(head)) {
            throw new ImageException(prefix + "kernel " + files.kernel() + ": not a Linux kernel (no x86 setup header"
                    + " \"HdrS\", no arm64 Image header, no EFI \"MZ\"): is it an initrd?");
        }
        for (Path initrd : files.initrds()) {
            readHead(initrd, prefix + "initrd");
        }
        for (String word : files.cmdline()) {
            // iPXE would expand ${…}, and a script line would end at "||"; a control character cannot be typed.
            if (word.contains("${") || word.equals("||") || word.equals("&&")
                    || word.chars().anyMatch(c -> c < ' ' || c == 127)) {
                throw new ImageException(prefix + "cmdline: '" + word + "' cannot be passed to the kernel through"
                        + " an iPXE script");
            }
        }
    }

    /** x86 setup header, arm64 Image header, or a PE/EFI image (an EFI-stub or zboot kernel). */
    static boolean looksLikeKernel(byte[] head) {
        boolean x86 = head.length >= X86_HEADER + 4 && head[X86_HEADER] == 'H' && head[X86_HEADER + 1] == 'd'
                && head[X86_HEADER + 2] == 'r' && head[X86_HEADER + 3] == 'S';
        boolean arm64 = head.length >= ARM64_MAGIC + 4 && head[ARM64_MAGIC] == 'A' && head[ARM64_MAGIC + 1] == 'R'
                && head[ARM64_MAGIC + 2] == 'M' && head[ARM64_MAGIC + 3] == 0x64;
        boolean pe = head.length >= 2 && head[0] == 'M' && head[1] == 'Z';
        return x86 || arm64 || pe;
    }

    private static byte[] readHead(Path file, String role) throws ImageException {
        if (Files.isDirectory(file)) {
            throw new ImageException(role + " " + file + ": is a directory, not a file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(HEAD);
            if (head.length == 0) {
                throw new ImageException(role + " " + file + ": empty file");
            }
            return head;
        } catch (NoSuchFileException e) {
            throw new ImageException(role + " " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new ImageException(role + " " + file + ": not readable (permission denied)");
        } catch (IOException e) {
            throw new ImageException(role + " " + file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Checks, then stores kernel and initrds content-addressed. Each keeps its file name (made unique and safe for
     * an iPXE {@code initrd --name}, which is how the EFI stub finds it).
     */
    public static BootSpec importFiles(BootSource.KernelFiles files, ArtifactStore store, String prefix)
            throws ImageException {
        check(files, prefix);
        Set<String> names = new HashSet<>();
        try {
            Artifact kernel;
            try (InputStream in = Files.newInputStream(files.kernel())) {
                kernel = store.put(in, uniqueName(files.kernel(), names));
            }
            List<Artifact> initrds = new ArrayList<>();
            for (Path initrd : files.initrds()) {
                try (InputStream in = Files.newInputStream(initrd)) {
                    // Padded like every initrd Pivot serves: loaders that concatenate them need 4-byte alignment.
                    initrds.add(store.putPadded4(in, uniqueName(initrd, names)));
                }
            }
            return BootSpec.kernelOnly(kernel, initrds, files.cmdline());
        } catch (IOException e) {
            throw new ImageException(prefix + "kernel " + files.kernel() + ": import failed: " + e.getMessage(), e);
        }
    }

    /** The file name with anything but letters, digits, '.', '_', '-' as '_', and "-2", "-3" … on a repeat. */
    static String uniqueName(Path file, Set<String> taken) {
        String base = file.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("^\\.+", "_");
        String name = base;
        for (int n = 2; !taken.add(name); n++) {
            name = base + "-" + n;
        }
        return name;
    }
}
