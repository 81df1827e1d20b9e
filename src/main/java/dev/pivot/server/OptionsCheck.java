package dev.pivot.server;

import dev.pivot.boot.BootSource;
import dev.pivot.image.ImageException;
import dev.pivot.image.KernelImport;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The options of a {@link ServerConfig} that can be checked without touching the network or the image, checked
 * before {@link PivotServer#start} does any work: a typo is named in one line at once, not after a long image
 * import. Each message names the flag of `pivot serve`, the value, and what is wrong with it.
 */
final class OptionsCheck {

    private OptionsCheck() {
    }

    static void check(ServerConfig c) {
        port("--http-port", c.httpPort());
        port("--tftp-port", c.tftpPort());
        port("--nbd-port", c.nbdPort());
        if (c.rootTransport() == ServerConfig.RootTransport.NBD && c.stage1() == ServerConfig.Stage1Mode.NATIVE) {
            throw new IllegalArgumentException("--root-transport nbd: needs Pivot's stage 1 (--stage1 prelude); with"
                    + " --stage1 native the root image goes inside the initrd");
        }
        directoryToBe("--state", c.state());
        c.tftpRoot().ifPresent(dir -> {
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--tftp-root " + dir + ": "
                        + (Files.exists(dir) ? "not a directory" : "no such directory"));
            }
        });
        if (Files.exists(c.ipxeDir()) && !Files.isDirectory(c.ipxeDir())) {
            throw new IllegalArgumentException("--ipxe-dir " + c.ipxeDir() + ": not a directory");
        }
        if (!c.efiLoader().equals(ServerConfig.GRUB_LOADER) && !c.efiLoader().matches("[A-Za-z0-9._-]+\\.efi")) {
            throw new IllegalArgumentException("--efi-loader " + c.efiLoader()
                    + ": expected grub or an iPXE build's file name, such as ipxe.efi or snponly.efi");
        }
        c.database().ifPresent(url -> {
            if (!url.startsWith("jdbc:")) {
                // Only up to '?': the rest of a JDBC URL may hold a password, and this line may reach a log.
                throw new IllegalArgumentException("--database " + url.replaceAll("\\?.*", "?…")
                        + ": expected a JDBC URL, e.g. jdbc:postgresql://HOST/DB");
            }
        });
        if (c.cluster().leases() == ServerConfig.DhcpLeases.STORE) {
            if (c.dhcp() != ServerConfig.DhcpMode.FULL) {
                throw new IllegalArgumentException("--dhcp-leases store: only --dhcp full leases addresses");
            }
            if (c.database().filter(url -> url.startsWith("jdbc:postgresql:")).isEmpty()) {
                throw new IllegalArgumentException("--dhcp-leases store: needs --database jdbc:postgresql://…, the"
                        + " database every server on the range shares (STATE/pivot.db is this server's alone)");
            }
        }
        c.cluster().name().ifPresent(name -> {
            if (!name.matches("[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")) {
                throw new IllegalArgumentException("--server-name " + name
                        + ": expected 1 to 100 letters, digits, '.', '_', ':' or '-'");
            }
        });
        c.apiTokenFile().ifPresent(file -> {
            if (Files.exists(file) && !Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--api-token-file " + file + ": not a regular file");
            }
            if (Files.exists(file) && !Files.isReadable(file)) {
                throw new IllegalArgumentException("--api-token-file " + file + ": not readable by this user");
            }
            Path parent = file.toAbsolutePath().getParent();
            if (!Files.exists(file) && !Files.isDirectory(parent)) {
                throw new IllegalArgumentException("--api-token-file " + file + ": no directory " + parent
                        + " to make it in");
            }
        });
        c.profiles().ifPresent(file -> {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--profiles " + file + ": "
                        + (Files.exists(file) ? "not a regular file" : "no such file"));
            }
        });
        c.init().ifPresent(init -> {
            if (!init.startsWith("/")) {
                throw new IllegalArgumentException("--init " + init + ": expected an absolute path, e.g. /sbin/init");
            }
        });
        if (c.source() instanceof BootSource.KernelFiles files) {
            if (c.init().isPresent()) {
                throw new IllegalArgumentException("--init is for images with a root image; with --kernel put init=…"
                        + " into --cmdline");
            }
            if (c.stage1() == ServerConfig.Stage1Mode.NATIVE) {
                throw new IllegalArgumentException("--stage1 native needs an image with a root image; --kernel "
                        + files.kernel() + " is served as a kernel and initrds alone");
            }
            try {
                KernelImport.check(files, "--");
            } catch (ImageException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }
        if (c.router().isPresent() && c.dhcp() != ServerConfig.DhcpMode.FULL) {
            throw new IllegalArgumentException("--router only makes sense with --dhcp full");
        }
        if (c.gcAfterDays() < 0) {
            throw new IllegalArgumentException("--gc-after " + c.gcAfterDays() + ": expected days, 0 (never) or more");
        }
        if (c.machineRamBytes().isPresent() && c.machineRamBytes().getAsLong() <= 0) {
            throw new IllegalArgumentException("--machine-ram " + (c.machineRamBytes().getAsLong() >> 20)
                    + ": expected the machines' RAM in MB, above 0");
        }
    }

    private static void port(String option, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(option + " " + port + ": expected 0 to 65535 (0: any free port)");
        }
    }

    /** An existing directory, or a path whose nearest existing ancestor is a directory (so it can be made). */
    private static void directoryToBe(String option, Path dir) {
        if (Files.isDirectory(dir)) {
            return;
        }
        if (Files.exists(dir)) {
            throw new IllegalArgumentException(option + " " + dir + ": is a file, not a directory");
        }
        for (Path p = dir.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p)) {
                return;
            }
            if (Files.exists(p)) {
                throw new IllegalArgumentException(option + " " + dir + ": " + p + " is a file, not a directory");
            }
        }
    }
}
