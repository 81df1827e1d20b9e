package dev.pivot.stage1;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Debian's nbd-client (and dmsetup, for dm-verity) for the prelude, with every shared library they link and the
 * dynamic loader, under {@code /pivot/nbd/}: the init script runs {@code /pivot/nbd/ld.so --library-path /pivot/nbd/lib
 * /pivot/nbd/nbd-client}, so neither the image's libraries nor its /lib are used. Debian's busybox-static has no
 * nbd-client applet. (Neither reconnects on Linux 6.1 after the server went away: see the init script.)
 *
 * @param files       archive path → bytes
 * @param executables the paths that must be executable (the loader)
 */
public record NbdClientFiles(SortedMap<String, byte[]> files, Set<String> executables) {

    /** Where Debian's nbd-client package installs it. */
    public static final Path DEFAULT_CLIENT = Path.of("/usr/sbin/nbd-client");
    public static final String CLIENT_FILE = Stage1Contract.NBD_DIR + "/nbd-client";
    /** Where Debian's dmsetup package installs it. */
    public static final Path DEFAULT_DMSETUP = Path.of("/usr/sbin/dmsetup");
    public static final String DMSETUP_FILE = Stage1Contract.NBD_DIR + "/dmsetup";
    /** Where Debian's qemu-utils package installs qemu-nbd. */
    public static final Path DEFAULT_QEMU_NBD = Path.of("/usr/bin/qemu-nbd");
    public static final String QEMU_NBD_FILE = Stage1Contract.NBD_DIR + "/qemu-nbd";
    public static final String LOADER_FILE = Stage1Contract.NBD_DIR + "/ld.so";
    public static final String LIBRARY_DIR = Stage1Contract.NBD_DIR + "/lib";

    /** "libfoo.so.1 => /lib/x86_64-linux-gnu/libfoo.so.1 (0x…)" and the loader's "/lib64/ld-linux… (0x…)". */
    private static final Pattern LINKED = Pattern.compile("^\\s*(?:(\\S+) => )?(/\\S+) \\(0x[0-9a-f]+\\)$");

    /** The client and what it links, as ldd reports it; refused with the reason when it cannot be packed. */
    public static NbdClientFiles of(Path client) throws Stage1Exception {
        if (!Files.isRegularFile(client)) {
            throw new Stage1Exception(client + ": no such file (install Debian's nbd-client: --root-transport nbd"
                    + " packs it into stage 1)");
        }
        SortedMap<String, byte[]> files = new TreeMap<>();
        Set<String> executables = new TreeSet<>();
        pack(client, CLIENT_FILE, files, executables);
        return new NbdClientFiles(files, executables);
    }

    /**
     * These files and Debian's dmsetup with what it links (the loader and libraries share the client's directory):
     * stage 1 sets up the dm-verity device with it, as Debian's kernel has no CONFIG_DM_INIT ({@code dm-mod.create=}).
     */
    public NbdClientFiles withDmsetup(Path dmsetup) throws Stage1Exception {
        if (!Files.isRegularFile(dmsetup)) {
            throw new Stage1Exception(dmsetup + ": no such file (install Debian's dmsetup: stage 1 sets up dm-verity"
                    + " with it)");
        }
        SortedMap<String, byte[]> more = new TreeMap<>(files);
        Set<String> exec = new TreeSet<>(executables);
        pack(dmsetup, DMSETUP_FILE, more, exec);
        return new NbdClientFiles(more, exec);
    }

    /**
     * These files and Debian's qemu-nbd with what it links: stage 1 then attaches with it instead of nbd-client.
     * The kernel's NBD connection goes to qemu-nbd in the machine, whose own NBD client (QEMU's block driver, with
     * {@code reconnect-delay}) connects to Pivot and reconnects when Pivot restarts, holding reads meanwhile;
     * Debian 12's nbd-client cannot (see the init script).
     */
    public NbdClientFiles withQemuNbd(Path qemuNbd) throws Stage1Exception {
        if (!Files.isRegularFile(qemuNbd)) {
            throw new Stage1Exception(qemuNbd + ": no such file (install Debian's qemu-utils)");
        }
        SortedMap<String, byte[]> more = new TreeMap<>(files);
        Set<String> exec = new TreeSet<>(executables);
        pack(qemuNbd, QEMU_NBD_FILE, more, exec);
        return new NbdClientFiles(more, exec);
    }

    private static void pack(Path binary, String as, SortedMap<String, byte[]> files, Set<String> executables)
            throws Stage1Exception {
        List<String> lines = ldd(binary);
        try {
            files.put(as, Files.readAllBytes(binary));
            boolean loader = false;
            for (String line : lines) {
                Matcher m = LINKED.matcher(line);
                if (!m.matches()) {
                    continue;
                }
                Path lib = Path.of(m.group(2));
                if (m.group(1) == null) {
                    files.put(LOADER_FILE, Files.readAllBytes(lib));
                    executables.add(LOADER_FILE);
                    loader = true;
                } else {
                    files.put(LIBRARY_DIR + "/" + m.group(1), Files.readAllBytes(lib));
                }
            }
            if (!loader) {
                throw new Stage1Exception(binary + ": ldd names no dynamic loader (" + String.join("; ", lines) + ")");
            }
        } catch (IOException e) {
            throw new Stage1Exception(binary + ": cannot read it or a library it needs: " + e.getMessage(), e);
        }
    }

    private static List<String> ldd(Path client) throws Stage1Exception {
        try {
            Process p = new ProcessBuilder("ldd", client.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new Stage1Exception(client + ": ldd failed: " + out.strip());
            }
            return new ArrayList<>(out.lines().toList());
        } catch (IOException e) {
            throw new Stage1Exception("cannot run ldd on " + client + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Stage1Exception("interrupted while running ldd on " + client, e);
        }
    }
}
