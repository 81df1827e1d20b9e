package dev.pivot.server;

import java.io.IOException;
import java.io.PrintStream;
import java.net.Inet4Address;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The GRUB ARM64 UEFI machines get (Debian 12's ipxe has no arm64 build): built at start with the host's
 * {@code grub-mkimage} (grub-common) from GRUB's arm64-efi modules (grub-efi-arm64-bin:arm64, installed on an arm64
 * server or unpacked by scripts/fetch-boot-loaders.sh --arm64), with this server's HTTP address as its prefix.
 *
 * <p>Why built, not Debian's signed {@code grubnetaa64.efi}: the signed image takes its server from the DHCP ack,
 * which under ProxyDHCP is the router's (GRUB 2.06 ignores the proxy offer), so it stops at its prompt; and it has
 * no http module, so a 33 MB arm64 Image would come by lock-step TFTP. This one names Pivot's server itself and
 * loads {@code /grub/grub.cfg}, the kernel and the initrds over HTTP, from the same boot spec as the iPXE script
 * ({@code GrubConfig.overHttp}). What it gives up: it is not signed, so an ARM64 machine with Secure Boot on refuses
 * it (rare on ARM64 servers; docs/secure-boot.md).
 */
final class Arm64Grub {

    /** The file name DHCP hands ARM64 PXE clients (TFTP) and HTTP Boot clients (by URL). */
    static final String FILE = "grubaa64.efi";
    /** Where grub-efi-arm64-bin puts its modules, inside the package. */
    static final String MODULES_IN_PACKAGE = "usr/lib/grub/arm64-efi";
    /** Where scripts/fetch-boot-loaders.sh --arm64 unpacks the arm64 packages. */
    static final Path UNPACKED = Path.of("/var/cache/pivot/loaders/arm64");
    /**
     * What the image holds: the network (efinet, http, tftp), the loader (linux, boot, gzio for a compressed
     * Image), and what Pivot's grub.cfg files use (normal mode's script: if/echo/sleep/configfile/true/test).
     */
    static final List<String> MODULES = List.of("normal", "configfile", "echo", "sleep", "test", "true", "linux",
            "boot", "gzio", "net", "efinet", "http", "tftp", "minicmd");
    /**
     * Run before normal mode reads $prefix/grub.cfg. The firmware's PXE hands GRUB its lease (efinet configures the
     * card from it); after UEFI HTTP Boot there may be none, and then GRUB asks DHCP itself.
     */
    static final String EMBEDDED = """
            echo "Pivot: GRUB arm64, config from ${prefix}"
            if [ -z "${net_default_ip}" ]; then net_bootp; fi
            """;

    /** The outcome: the directory holding {@link #FILE}, or one line saying what is missing. */
    sealed interface Found {
        record Built(Path dir) implements Found {
        }

        record Missing(String line) implements Found {
        }
    }

    private Arm64Grub() {
    }

    /** Looks in the installed system, then in {@link #UNPACKED}, for the modules; on $PATH for grub-mkimage. */
    /** Builds it and says on {@code out} whether ARM64 machines get it: its file name when they do. */
    static Optional<String> offer(Path dir, Inet4Address server, int httpPort, PrintStream out) throws IOException {
        return switch (build(dir, server, httpPort)) {
            case Found.Built built -> {
                out.println("pivot: ARM64 UEFI clients get GRUB arm64 (" + FILE + ", built with grub-mkimage:"
                        + " grub.cfg, kernel and initrds over HTTP)");
                yield Optional.of(FILE);
            }
            case Found.Missing missing -> {
                out.println("pivot: " + missing.line());
                yield Optional.empty();
            }
        };
    }

    static Found build(Path dir, Inet4Address server, int httpPort) throws IOException {
        return build(List.of(Path.of("/"), UNPACKED), pathDirs(), dir, server, httpPort);
    }

    static Found build(List<Path> roots, List<Path> binDirs, Path dir, Inet4Address server, int httpPort)
            throws IOException {
        Optional<Path> mkimage = binDirs.stream().map(d -> d.resolve("grub-mkimage")).filter(Files::isExecutable)
                .findFirst();
        if (mkimage.isEmpty()) {
            return new Found.Missing("ARM64 machines get no loader: grub-mkimage missing (install the Debian package"
                    + " grub-common); looked in " + binDirs);
        }
        Optional<Path> modules = roots.stream().map(r -> r.resolve(MODULES_IN_PACKAGE))
                .filter(d -> Files.isRegularFile(d.resolve("http.mod"))).findFirst();
        if (modules.isEmpty()) {
            return new Found.Missing("ARM64 machines get no loader: GRUB's arm64-efi modules missing (the Debian"
                    + " package grub-efi-arm64-bin:arm64; scripts/fetch-boot-loaders.sh --arm64 unpacks it without"
                    + " installing it); looked for /" + MODULES_IN_PACKAGE + "/http.mod in " + roots);
        }
        Files.createDirectories(dir);
        // Beside the served directory, not in it: TFTP and HTTP serve every file there.
        Path work = Files.createDirectories(dir.resolveSibling(dir.getFileName() + ".build"));
        Path config = work.resolve("embedded.cfg");
        Files.writeString(config, EMBEDDED, StandardCharsets.UTF_8);
        Path tmp = work.resolve(FILE);
        String prefix = "(http," + server.getHostAddress() + (httpPort == 80 ? "" : ":" + httpPort) + ")/grub";
        List<String> cmd = new ArrayList<>(List.of(mkimage.get().toString(), "-O", "arm64-efi", "-d",
                modules.get().toString(), "-p", prefix, "-c", config.toString(), "-o", tmp.toString()));
        cmd.addAll(MODULES);
        Path log = work.resolve("grub-mkimage.log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Found.Missing("ARM64 machines get no loader: " + mkimage.get() + " took over 60 s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while building " + FILE, e);
        }
        if (p.exitValue() != 0 || !Files.isRegularFile(tmp)) {
            return new Found.Missing("ARM64 machines get no loader: " + String.join(" ", cmd) + " failed (exit "
                    + p.exitValue() + "): " + Files.readString(log, StandardCharsets.UTF_8).strip().replace('\n', ' '));
        }
        Files.move(tmp, dir.resolve(FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return new Found.Built(dir);
    }

    private static List<Path> pathDirs() {
        String path = System.getenv().getOrDefault("PATH", "");
        List<Path> dirs = new ArrayList<>();
        for (String d : path.split(":")) {
            if (!d.isEmpty()) {
                dirs.add(Path.of(d));
            }
        }
        // A service's PATH may lack the sbin/bin pair grub-common uses.
        for (String d : List.of("/usr/bin", "/usr/sbin")) {
            if (!dirs.contains(Path.of(d))) {
                dirs.add(Path.of(d));
            }
        }
        return dirs;
    }
}
