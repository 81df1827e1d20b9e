package dev.pivot.image;

import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * ImageCheck on Debian's real kernel (the package scripts/common.sh unpacks into /var/cache/pivot/kernel for the
 * demo and the end-to-end tests): its bzImage header, its modules.builtin and its module tree's real names.
 */
class ImageCheckDebianKernelTest {

    private static final Path CACHE = Path.of("/var/cache/pivot/kernel");

    @TempDir
    Path tmp;

    private Path unpacked() throws IOException {
        Path kernel = null;
        if (Files.isDirectory(CACHE)) {
            try (Stream<Path> dirs = Files.list(CACHE)) {
                // The x86-64 one: the cache also holds the ARM64 test's arm64 kernel.
                kernel = dirs.filter(d -> !d.getFileName().toString().endsWith("-arm64"))
                        .filter(d -> Files.isDirectory(d.resolve("lib/modules"))).findFirst().orElse(null);
            }
        }
        if (kernel == null) {
            Assertions.fail("no Debian kernel with lib/modules unpacked in " + CACHE
                    + " (./test unpacks one: scripts/make-demo-image.sh --kernel-only)");
        }
        return kernel;
    }

    private static String release(Path unpacked) throws IOException {
        try (Stream<Path> releases = Files.list(unpacked.resolve("lib/modules"))) {
            return releases.findFirst().orElseThrow().getFileName().toString();
        }
    }

    /** A stage-1 initrd holding the real .ko files named, with modules.builtin. */
    private Path initrd(Path modules, List<String> kos) throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("initrd-" + kos.size()));
        Path dir = tree.resolve("lib/modules").resolve(modules.getFileName().toString());
        for (String ko : kos) {
            Files.createDirectories(dir.resolve(ko).getParent());
            Files.copy(modules.resolve(ko), dir.resolve(ko));
        }
        for (String index : List.of("modules.builtin", "modules.dep", "modules.alias")) {
            Files.copy(modules.resolve(index), dir.resolve(index));
        }
        Path out = tmp.resolve("initrd-" + kos.size() + ".gz");
        Tools.require("cpio", "cpio");
        Tools.sh(tree, "find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1 > " + out);
        return out;
    }

    /** A store-root squashfs with the kernel's module tree: real names, empty files (only names are checked). */
    private Path rootImage(Path modules, String release) throws Exception {
        Path store = Files.createDirectories(tmp.resolve("store"));
        Path target = Files.createDirectories(store.resolve("00000000000000000000000000000000-linux-" + release
                + "-modules/lib/modules/" + release));
        try (Stream<Path> files = Files.walk(modules)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Path copy = target.resolve(modules.relativize(file).toString());
                Files.createDirectories(copy.getParent());
                if (file.getFileName().toString().equals("modules.builtin")) {
                    Files.copy(file, copy);
                } else {
                    Files.createFile(copy);
                }
            }
        }
        Path init = Files.createDirectories(store.resolve("11111111111111111111111111111111-nixos-system-x"))
                .resolve("init");
        Files.writeString(init, "#!/bin/sh\n");
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path image = tmp.resolve("nix-store.squashfs");
        Tools.require("mksquashfs", "squashfs-tools");
        Tools.sh(tmp, "mksquashfs " + store + " " + image + " -comp zstd -noappend -quiet -no-progress >/dev/null");
        return image;
    }

    @Test
    void debianKernelWithItsModules() throws Exception {
        Path unpacked = unpacked();
        String release = release(unpacked);
        Path modules = unpacked.resolve("lib/modules/" + release);
        Path kernel = unpacked.resolve("boot/vmlinuz-" + release);
        Path root = rootImage(modules, release);
        List<String> needed = List.of("kernel/drivers/block/loop.ko", "kernel/fs/squashfs/squashfs.ko",
                "kernel/fs/overlayfs/overlay.ko", "kernel/drivers/net/virtio_net.ko",
                "kernel/drivers/net/net_failover.ko", "kernel/net/core/failover.ko", "kernel/drivers/virtio/virtio.ko",
                "kernel/drivers/virtio/virtio_ring.ko");
        assertThat(needed).as("modules this test copies from the kernel in " + modules)
                .allMatch(ko -> Files.exists(modules.resolve(ko)));
        String init = "/nix/store/11111111111111111111111111111111-nixos-system-x/init";

        ImageCheckResult good = ImageCheck.check(kernel, initrd(modules, needed), root, init);
        assertThat(good.findings()).isEmpty();
        assertThat(good.release()).isEqualTo(release);
        assertThat(good.kernelVersion()).startsWith(release + " (");
        // Debian builds af_packet in; the check finds it in modules.builtin.
        assertThat(good.initrdModules().isBuiltin("af_packet")).isTrue();
        assertThat(good.storeModules().modules()).hasSizeGreaterThan(1000);
        assertThat(good.storeModules().ethernetDrivers()).contains("virtio_net", "e1000", "e1000e", "igb", "r8169")
                .doesNotContain("tun", "bonding", "veth", "net_failover");

        // virtio_net without failover, which net_failover needs (per Debian's modules.dep).
        ImageCheckResult noFailover = ImageCheck.check(kernel, initrd(modules,
                needed.stream().filter(m -> !m.endsWith("/failover.ko")).toList()), root, init);
        assertThat(noFailover.findings()).containsExactly(Finding.error("module:virtio_net", "virtio_net needs"
                + " failover, which is not in the initrd: add \"failover\" to boot.initrd.availableKernelModules"));

        ImageCheckResult noNic = ImageCheck.check(kernel, initrd(modules, needed.subList(0, 3)), root, init);
        int nics = good.storeModules().ethernetDrivers().size();
        assertThat(noNic.findings()).containsExactly(Finding.error("ethernet", "no Ethernet driver in the initrd: add"
                + " your NIC's module to boot.initrd.availableKernelModules (found in the image's store: virtio_net,"
                + " e1000, e1000e, igb, igc, r8169, ixgbe, tg3 and " + (nics - 8) + " more)"));
    }
}
