package dev.pivot.testsupport;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What a test needs from the host. A test that cannot run here fails, naming what is missing and the Debian package
 * that has it (./test installs them all): a skipped test would pass CI without testing anything. The one opt-out is
 * {@code -Dpivot.e2e=false} for the VM tests, and it says so.
 */
public final class Require {
    private Require() {
    }

    private static final AtomicBoolean VM_SKIP_SAID = new AtomicBoolean();

    /** The Debian package of each command the tests run, for the failure message. */
    private static final Map<String, String> PACKAGES = Map.ofEntries(
            Map.entry("ip", "iproute2"), Map.entry("nft", "nftables"), Map.entry("busybox", "busybox-static"),
            Map.entry("qemu-system-x86_64", "qemu-system-x86"), Map.entry("dnsmasq", "dnsmasq-base"),
            Map.entry("dhclient", "isc-dhcp-client"), Map.entry("dhcpcd", "dhcpcd-base"),
            Map.entry("socat", "socat"), Map.entry("curl", "curl"), Map.entry("atftp", "atftp"),
            Map.entry("tftp", "tftp-hpa"), Map.entry("in.tftpd", "tftpd-hpa"), Map.entry("mksquashfs",
                    "squashfs-tools"), Map.entry("cpio", "cpio"), Map.entry("gzip", "gzip"),
            Map.entry("xz", "xz-utils"), Map.entry("lzma", "xz-utils"), Map.entry("zstd", "zstd"),
            Map.entry("bzip2", "bzip2"), Map.entry("lz4", "lz4"), Map.entry("runuser", "util-linux"),
            Map.entry("dpkg-deb", "dpkg"), Map.entry("help2man", "help2man"),
            Map.entry("systemd-analyze", "systemd"), Map.entry("setpriv", "util-linux"), Map.entry("man", "man-db"),
            Map.entry("unshare", "util-linux"), Map.entry("script", "bsdutils"), Map.entry("chroot", "coreutils"));

    /** The real user id, from /proc/self/status (user.name says nothing under sudo -E or a renamed uid 0). */
    public static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return line.split("\\s+")[1].equals("0");
                }
            }
            throw new IllegalStateException("no Uid: line in /proc/self/status");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Fails unless this JVM runs as uid 0; {@code why} says what needs it (e.g. "network namespaces"). */
    public static void root(String why) {
        if (!isRoot()) {
            Assertions.fail("needs root (uid 0) for " + why + "; run ./test as root");
        }
    }

    /** The Debian package that has {@code command}, as far as the tests know. */
    public static String packageOf(String command) {
        return PACKAGES.getOrDefault(command, command);
    }

    /** Where {@code command} is on PATH or in the sbin directories (root's tools), if anywhere. */
    public static Path which(String command) {
        List<String> dirs = new ArrayList<>(List.of(
                System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")));
        dirs.addAll(List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"));
        return dirs.stream().filter(d -> !d.isEmpty()).map(d -> Path.of(d, command)).filter(Files::isExecutable)
                .findFirst().orElse(null);
    }

    public static boolean has(String command) {
        return which(command) != null;
    }

    /** Fails unless {@code command} is installed, naming its Debian package. */
    public static void command(String command) {
        command(command, packageOf(command));
    }

    public static void command(String command, String debianPackage) {
        if (which(command) == null) {
            Assertions.fail(command + " is not installed (Debian package " + debianPackage + ")");
        }
    }

    /** Fails unless {@code path} exists, naming the Debian package that installs it. */
    public static void file(Path path, String debianPackage) {
        if (!Files.exists(path)) {
            Assertions.fail(path + " is missing (Debian package " + debianPackage + ")");
        }
    }

    /**
     * The VM tests' one opt-out: with {@code -Dpivot.e2e=false} the test is skipped, and the run says so once on
     * stderr; .ci/run fails a run with skipped tests, so CI cannot pass this way.
     */
    public static void vmTestsEnabled() {
        if ("false".equals(System.getProperty("pivot.e2e"))) {
            String why = "VM end-to-end tests skipped: -Dpivot.e2e=false";
            if (VM_SKIP_SAID.compareAndSet(false, true)) {
                System.err.println("pivot: " + why);
            }
            Assumptions.abort(why);
        }
    }

    /** The checkout, where scripts/ and the packaged CLI (target/classpath.txt) are. */
    public static Path pivotRoot() {
        String root = System.getProperty("pivot.root");
        return root == null ? Path.of("").toAbsolutePath() : Path.of(root);
    }

    /** Fails unless the CLI was packaged (failsafe runs after `package`, so only a hand-made run lacks it). */
    public static Path packagedCli() {
        Path classpath = pivotRoot().resolve("target/classpath.txt");
        if (!Files.isRegularFile(classpath)) {
            Assertions.fail("needs the packaged CLI: " + classpath + " is missing (run ./mvnw package)");
        }
        return pivotRoot();
    }

    /**
     * What every VM test needs: root (namespaces, tap devices), QEMU, OVMF, iPXE ROMs and binaries, dnsmasq,
     * busybox, mksquashfs and cpio. Fails with one message naming everything missing and its packages.
     */
    public static void vmLab() {
        vmTestsEnabled();
        root("network namespaces and tap devices");
        Map<String, String> needed = Map.of(
                "/usr/bin/qemu-system-x86_64", "qemu-system-x86", "/usr/share/ovmf/OVMF.fd", "ovmf",
                "/usr/lib/ipxe/qemu/efi-virtio.rom", "ipxe-qemu", "/usr/lib/ipxe/ipxe.efi", "ipxe",
                "/usr/sbin/dnsmasq", "dnsmasq-base", "/bin/busybox", "busybox-static",
                "/usr/bin/mksquashfs", "squashfs-tools", "/usr/bin/cpio", "cpio");
        List<String> missing = needed.entrySet().stream().filter(e -> !Files.exists(Path.of(e.getKey())))
                .map(e -> e.getKey() + " (" + e.getValue() + ")").sorted().toList();
        if (!missing.isEmpty()) {
            Assertions.fail("VM test cannot run, missing: " + String.join(", ", missing)
                    + "; ./test installs them");
        }
    }
}
