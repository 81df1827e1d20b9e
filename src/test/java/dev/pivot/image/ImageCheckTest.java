package dev.pivot.image;

import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Fixtures made by the real tools: GNU cpio + gzip for the initrd, mksquashfs for the root image. */
class ImageCheckTest {

    static final String RELEASE = "6.1.0-test";
    static final String SYSTEM = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-test-24.05";
    static final String BASH = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bash-5.2/bin/bash";
    static final String MODULES_PATH = "/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-linux-" + RELEASE + "-modules";
    static final List<String> ALL_INITRD_MODULES = List.of("kernel/drivers/block/loop.ko.xz",
            "kernel/fs/squashfs/squashfs.ko.xz", "kernel/fs/overlayfs/overlay.ko.xz",
            "kernel/net/packet/af_packet.ko.xz", "kernel/drivers/net/virtio_net.ko.xz",
            "kernel/drivers/net/net_failover.ko.xz");
    static final List<String> STORE_MODULES = List.of("kernel/drivers/block/loop.ko.xz",
            "kernel/fs/squashfs/squashfs.ko.xz", "kernel/fs/overlayfs/overlay.ko.xz",
            "kernel/net/packet/af_packet.ko.xz", "kernel/drivers/net/virtio_net.ko.xz",
            "kernel/drivers/net/ethernet/intel/e1000/e1000.ko.xz", "kernel/drivers/net/tun.ko.xz",
            "kernel/drivers/net/ethernet/realtek/r8169.ko.xz");

    @TempDir
    Path tmp;
    private int images;
    /** Whether the test initrd has modules.dep and modules.alias. */
    private boolean depmod = true;
    /** Whether the system in the test root image links its kernel-modules, as a NixOS toplevel does. */
    private boolean systemModules = true;

    /** A bzImage-shaped file: the setup header's "HdrS" and version pointer, the version string at 0x200 + it. */
    static Path fakeBzImage(Path file, String version) throws IOException {
        byte[] image = new byte[0x2000];
        new Random(1).nextBytes(image);
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1FE, (byte) 0x55).put(0x1FF, (byte) 0xAA);
        b.put(0x202, "HdrS".getBytes(StandardCharsets.US_ASCII), 0, 4);
        b.putShort(0x206, (short) 0x020F);
        b.putShort(0x20E, (short) 0x1000);
        byte[] text = (version + "\0").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(text, 0, image, 0x1200, text.length);
        Files.write(file, image);
        return file;
    }

    /** A stage-1 initrd (gzip cpio); NixOS-style: /lib links to a store path holding lib/modules. */
    Path initrd(String release, List<String> modules, String builtin) throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("initrd-tree-" + ++images));
        Path shrunk = Files.createDirectories(tree.resolve("nix/store/cccccccccccccccccccccccccccccccc-modules-shrunk/lib"));
        Path dir = Files.createDirectories(shrunk.resolve("modules/" + release));
        Random random = new Random(7);
        for (String module : modules) {
            byte[] data = new byte[200 + random.nextInt(400)];
            random.nextBytes(data);
            Files.createDirectories(dir.resolve(module).getParent());
            Files.write(dir.resolve(module), data);
        }
        Files.writeString(dir.resolve("modules.builtin"), builtin);
        if (depmod) {
            // As depmod writes them: every module with its dependencies (virtio_net needs net_failover).
            StringBuilder dep = new StringBuilder();
            for (String module : modules) {
                dep.append(module).append(":").append(module.contains("virtio_net")
                        ? " kernel/drivers/net/net_failover.ko.xz" : "").append('\n');
            }
            Files.writeString(dir.resolve("modules.dep"), dep);
            Files.writeString(dir.resolve("modules.alias"), "alias virtio:d00000001v* virtio_net\n");
        }
        Files.createSymbolicLink(tree.resolve("lib"), Path.of("/nix/store/cccccccccccccccccccccccccccccccc-modules-shrunk/lib"));
        Files.writeString(tree.resolve("init"), "#!/bin/sh\n");
        Path cpio = tmp.resolve("stage1-" + images + ".cpio");
        Tools.require("cpio", "cpio");
        Tools.sh(tree, "find . | LC_ALL=C sort | cpio -o -H newc --quiet > " + cpio);
        Path initrd = Fixtures.compress(cpio, "gzip -9n");
        return initrd;
    }

    /** A store-root squashfs: the system's init (a bash script), bash, and the kernel's module tree. */
    Path rootImage(String initMode, boolean withBash, List<String> modules) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("store-" + ++images));
        Path system = Files.createDirectories(root.resolve(SYSTEM.substring("/nix/store/".length())));
        Path realInit = Files.createDirectories(root.resolve("dddddddddddddddddddddddddddddddd-stage-2-init"))
                .resolve("init");
        Files.writeString(realInit, "#! " + BASH + "\nexec systemd\n");
        Files.setPosixFilePermissions(realInit, PosixFilePermissions.fromString(initMode));
        Files.createSymbolicLink(system.resolve("init"), Path.of("/nix/store/dddddddddddddddddddddddddddddddd-stage-2-init/init"));
        Files.writeString(system.resolve("kernel-params"), "loglevel=4");
        if (withBash) {
            Path bash = Files.createDirectories(root.resolve(BASH.substring("/nix/store/".length())).getParent())
                    .resolve("bash");
            Files.writeString(bash, "ELF");
            Files.setPosixFilePermissions(bash, PosixFilePermissions.fromString("r-xr-xr-x"));
        }
        Path dir = Files.createDirectories(root.resolve(MODULES_PATH.substring(1) + "/lib/modules/" + RELEASE));
        for (String module : modules) {
            Files.createDirectories(dir.resolve(module).getParent());
            Files.write(dir.resolve(module), new byte[] {1, 2, 3});
        }
        Files.writeString(dir.resolve("modules.builtin"), "kernel/fs/ext4/ext4.ko\n");
        // The aggregated tree NixOS links from the system: symlinks into the modules path.
        Path aggregate = Files.createDirectories(root.resolve("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-kernel-modules/lib/modules"));
        Files.createSymbolicLink(aggregate.resolve(RELEASE), Path.of("/nix/store" + MODULES_PATH + "/lib/modules/" + RELEASE));
        if (systemModules) {
            Files.createSymbolicLink(system.resolve("kernel-modules"),
                    Path.of("/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-kernel-modules"));
        }
        Tools.require("mksquashfs", "squashfs-tools");
        Path image = tmp.resolve("nix-store.squashfs");
        Files.deleteIfExists(image);
        Tools.sh(tmp, "mksquashfs " + root + " " + image + " -comp zstd -noappend -quiet -no-progress >/dev/null");
        return image;
    }

    /**
     * A whole root file system (a generic image): /sbin/init, and the kernel's modules under {@code modulesDir}
     * ("lib/modules", "usr/lib/modules" with /lib a symlink to usr/lib as in a merged-/usr Debian, or none).
     */
    Path wholeRoot(String modulesDir, List<String> modules) throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root-" + ++images));
        Path init = Files.createDirectories(root.resolve("sbin")).resolve("init");
        Files.writeString(init, "#!/bin/sh\n");
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("r-xr-xr-x"));
        if (modulesDir != null) {
            if (modulesDir.startsWith("usr/")) {
                Files.createDirectories(root.resolve("usr/lib"));
                Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
            }
            Path dir = Files.createDirectories(root.resolve(modulesDir + "/" + RELEASE));
            for (String module : modules) {
                Files.createDirectories(dir.resolve(module).getParent());
                Files.write(dir.resolve(module), new byte[] {1, 2, 3});
            }
            Files.writeString(dir.resolve("modules.builtin"), "kernel/fs/ext4/ext4.ko\n");
        }
        Tools.require("mksquashfs", "squashfs-tools");
        Path image = tmp.resolve("root.squashfs");
        Files.deleteIfExists(image);
        Tools.sh(tmp, "mksquashfs " + root + " " + image + " -comp gzip -noappend -quiet -no-progress >/dev/null");
        return image;
    }

    private ImageCheckResult checkWholeRoot(Path initrd, Path root) throws Exception {
        Path kernel = fakeBzImage(tmp.resolve("bzImage"), RELEASE + " (debian-kernel@lists.debian.org) #1 SMP");
        return ImageCheck.check(kernel, initrd, root, "/sbin/init", true);
    }

    @Test
    void aGenericImagesModulesAreFoundInTheStandardPlaces() throws Exception {
        Path initrd = initrd(RELEASE, ALL_INITRD_MODULES, "");
        ImageCheckResult classic = checkWholeRoot(initrd, wholeRoot("lib/modules", STORE_MODULES));
        assertThat(classic.findings()).isEmpty();
        assertThat(classic.storeModules().location()).isEqualTo("/lib/modules/" + RELEASE);
        assertThat(classic.storeModules().ethernetDrivers()).contains("e1000", "r8169", "virtio_net");
        assertThat(classic.initPath()).isEqualTo("/sbin/init");

        ImageCheckResult mergedUsr = checkWholeRoot(initrd, wholeRoot("usr/lib/modules", STORE_MODULES));
        assertThat(mergedUsr.findings()).isEmpty();
        assertThat(mergedUsr.storeModules().modules()).containsKey("r8169");
    }

    @Test
    void aGenericImageIsToldAboutItsOwnPlacesNotNixOs() throws Exception {
        List<String> noNic = ALL_INITRD_MODULES.stream().filter(m -> !m.contains("virtio")).toList();
        ImageCheckResult result = checkWholeRoot(initrd(RELEASE, noNic, ""), wholeRoot(null, List.of()));
        assertThat(result.findings()).extracting(Finding::toString).containsExactlyInAnyOrder(
                "WARNING root-image: no /lib/modules/" + RELEASE + " or /usr/lib/modules/" + RELEASE + " in the root"
                        + " image: the booted system cannot load kernel modules (was the image built with this kernel?)",
                "ERROR ethernet: no Ethernet driver in the initrd: add your NIC's module to the initrd's modules (and"
                        + " run depmod for it) (the root image has no Ethernet drivers either: enable your NIC's driver"
                        + " in the kernel)");
        assertThat(result.findings()).extracting(Finding::message)
                .noneMatch(m -> m.contains("boot.initrd") || m.contains("store") || m.contains("netboot.ipxe"));
    }

    private ImageCheckResult check(Path initrd, Path root) throws Exception {
        Path kernel = fakeBzImage(tmp.resolve("bzImage"), RELEASE + " (nixbld@localhost) #1-NixOS SMP PREEMPT_DYNAMIC");
        return ImageCheck.check(kernel, initrd, root, SYSTEM + "/init");
    }

    @Test
    void aGoodImageHasNoFindings() throws Exception {
        ImageCheckResult result = check(initrd(RELEASE, ALL_INITRD_MODULES, ""), rootImage("r-xr-xr-x", true, STORE_MODULES));
        assertThat(result.findings()).isEmpty();
        assertThat(result.hasErrors()).isFalse();
        assertThat(result.kernelVersion()).isEqualTo(RELEASE + " (nixbld@localhost) #1-NixOS SMP PREEMPT_DYNAMIC");
        assertThat(result.release()).isEqualTo(RELEASE);
        assertThat(result.initPath()).isEqualTo("/dddddddddddddddddddddddddddddddd-stage-2-init/init");
        assertThat(result.initrdModules().modules()).containsKeys("loop", "squashfs", "overlay", "af_packet",
                "virtio_net", "net_failover");
        assertThat(result.initrdModules().ethernetDrivers()).containsExactly("virtio_net");
        assertThat(result.storeModules().location()).isEqualTo(SYSTEM + "/kernel-modules/lib/modules/" + RELEASE);
        assertThat(result.storeModules().place()).isEqualTo("root image");
        assertThat(result.initrdModules().location()).isEqualTo("/lib/modules/" + RELEASE);
        assertThat(result.storeModules().ethernetDrivers()).containsExactly("e1000", "r8169", "virtio_net");
        assertThat(result.storeModules().builtin()).containsKey("ext4");
    }

    @Test
    void noEthernetDriverInTheInitrdSaysWhereToAddOne() throws Exception {
        List<String> noNic = ALL_INITRD_MODULES.stream().filter(m -> !m.contains("virtio_net")).toList();
        ImageCheckResult result = check(initrd(RELEASE, noNic, ""), rootImage("r-xr-xr-x", true, STORE_MODULES));
        assertThat(result.findings()).containsExactly(Finding.error("ethernet", "no Ethernet driver in the initrd: "
                + "add your NIC's module to boot.initrd.availableKernelModules (found in the image's store: "
                + "virtio_net, e1000, r8169)"));
        assertThat(result.hasErrors()).isTrue();
    }

    @Test
    void missingModulesAreNamedWithTheirPlaceInTheStore() throws Exception {
        systemModules = false; // then the store path of the kernel's modules is found by its name
        List<String> some = List.of("kernel/drivers/net/ethernet/intel/e1000/e1000.ko.xz",
                "kernel/fs/overlayfs/overlay.ko.zst");
        // squashfs built into the kernel: fine without a module.
        ImageCheckResult result = check(initrd(RELEASE, some, "kernel/fs/squashfs/squashfs.ko\n"),
                rootImage("r-xr-xr-x", true, STORE_MODULES.subList(0, 2)));
        assertThat(result.findings()).extracting(Finding::subject).containsExactly("module:af_packet", "module:loop");
        assertThat(result.findings().get(0).message()).isEqualTo("kernel " + RELEASE + " has no af_packet support (the"
                + " DHCP client (udhcpc) needs it): it is neither built in nor a module in the initrd or the image's"
                + " store; enable it in the kernel config");
        assertThat(result.findings().get(1).message()).isEqualTo("loop is not in the initrd (needed to mount the root"
                + " image file): add \"loop\" to boot.initrd.availableKernelModules (the image's store has it: "
                + "/nix/store" + MODULES_PATH + "/lib/modules/" + RELEASE + "/kernel/drivers/block/loop.ko.xz)");
    }

    @Test
    void initMustExistAndBeExecutable() throws Exception {
        Path initrd = initrd(RELEASE, ALL_INITRD_MODULES, "");
        ImageCheckResult notExecutable = check(initrd, rootImage("r--r--r--", true, STORE_MODULES));
        assertThat(notExecutable.findings()).containsExactly(Finding.error("init", "init=" + SYSTEM + "/init (→ "
                + "/nix/store/dddddddddddddddddddddddddddddddd-stage-2-init/init) is not executable (mode 0444)"));

        ImageCheckResult noBash = check(initrd, rootImage("r-xr-xr-x", false, STORE_MODULES));
        assertThat(noBash.findings()).containsExactly(Finding.error("init", "init=" + SYSTEM + "/init is a script"
                + " for " + BASH + ", which is not in the root image (no such file: "
                + "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bash-5.2)"));

        Path kernel = fakeBzImage(tmp.resolve("bzImage"), RELEASE + " #1");
        ImageCheckResult missing = ImageCheck.check(kernel, initrd, rootImage("r-xr-xr-x", true, STORE_MODULES),
                "/nix/store/ffffffffffffffffffffffffffffffff-nixos-system-other/init");
        assertThat(missing.findings()).containsExactly(Finding.error("init", "init=/nix/store/"
                + "ffffffffffffffffffffffffffffffff-nixos-system-other/init is not in the root image (no such file: "
                + "/ffffffffffffffffffffffffffffffff-nixos-system-other): is netboot.ipxe from the same build as the"
                + " initrd?"));
        assertThat(ImageCheck.check(kernel, initrd, tmp.resolve("nix-store.squashfs"), SYSTEM).findings())
                .containsExactly(Finding.error("init", "init=" + SYSTEM + " is not a program but a directory"));
    }

    @Test
    void aModuleWithoutItsDependenciesWillNotLoad() throws Exception {
        List<String> noFailover = ALL_INITRD_MODULES.stream().filter(m -> !m.contains("net_failover")).toList();
        ImageCheckResult result = check(initrd(RELEASE, noFailover, ""), rootImage("r-xr-xr-x", true, STORE_MODULES));
        assertThat(result.findings()).containsExactly(Finding.error("module:virtio_net", "virtio_net needs net_failover,"
                + " which is not in the initrd: add \"net_failover\" to boot.initrd.availableKernelModules"));
    }

    @Test
    void anInitrdWithoutDepmodFilesCannotLoadModules() throws Exception {
        depmod = false;
        ImageCheckResult result = check(initrd(RELEASE, ALL_INITRD_MODULES, ""), rootImage("r-xr-xr-x", true,
                STORE_MODULES));
        assertThat(result.findings()).containsExactly(Finding.error("initrd", "the initrd's /lib/modules/" + RELEASE
                + " has no modules.dep, so stage 1 cannot load its modules (build the initrd with depmod, as NixOS"
                + " does)"));
    }

    @Test
    void kernelAndInitrdFromDifferentBuildsAreAnError() throws Exception {
        ImageCheckResult result = check(initrd("6.6.9", ALL_INITRD_MODULES, ""), rootImage("r-xr-xr-x", true,
                STORE_MODULES));
        assertThat(result.findings()).first().isEqualTo(Finding.error("initrd", "the initrd's modules are for kernel"
                + " 6.6.9 but the kernel is " + RELEASE + ": they will not load (the initrd and the kernel come from"
                + " different builds)"));
    }

    @Test
    void aKernelWithoutSetupHeaderFallsBackToTheInitrdRelease() throws Exception {
        Path kernel = tmp.resolve("Image");
        Files.write(kernel, new byte[4096]);
        ImageCheckResult result = ImageCheck.check(kernel, initrd(RELEASE, ALL_INITRD_MODULES, ""),
                rootImage("r-xr-xr-x", true, STORE_MODULES), SYSTEM + "/init");
        assertThat(result.kernelVersion()).isNull();
        assertThat(result.release()).isEqualTo(RELEASE);
        assertThat(result.findings()).containsExactly(Finding.warning("kernel", "the kernel Image has no x86 setup"
                + " header with a version string; the module checks use the initrd's lib/modules/" + RELEASE));
    }

    @Test
    void anArm64ImageTakesItsReleaseFromTheInitrdWithoutAWarning() throws Exception {
        // The arm64 Image header (booting.rst) carries no version string: the initrd's module tree is the way.
        byte[] header = new byte[4096];
        header[0x38] = 'A';
        header[0x39] = 'R';
        header[0x3a] = 'M';
        header[0x3b] = 0x64;
        Path kernel = Files.write(tmp.resolve("Image"), header);
        ImageCheckResult result = ImageCheck.check(kernel, initrd(RELEASE, ALL_INITRD_MODULES, ""),
                rootImage("r-xr-xr-x", true, STORE_MODULES), SYSTEM + "/init");
        assertThat(result.kernelVersion()).isNull();
        assertThat(result.release()).isEqualTo(RELEASE);
        assertThat(result.findings()).isEmpty();
    }

    @Test
    void anUnreadableRootImageIsAnError() throws Exception {
        Path initrd = initrd(RELEASE, ALL_INITRD_MODULES, "");
        Path garbage = tmp.resolve("garbage.squashfs");
        Files.write(garbage, new byte[1000]);
        ImageCheckResult result = check(initrd, garbage);
        assertThat(result.findings()).containsExactly(Finding.error("root-image", "the root image is unreadable: "
                + garbage + ": not a squashfs image (no \"hsqs\" magic at offset 0)"));
    }

    @Test
    void readsTheVersionOfARealKernelIfOneIsAround() throws Exception {
        // /boot, or the Debian kernel the demo and end-to-end scripts unpack (scripts/common.sh).
        List<Path> places = new java.util.ArrayList<>(List.of(Path.of("/boot")));
        Path cache = Path.of("/var/cache/pivot/kernel");
        if (Files.isDirectory(cache)) {
            try (var dirs = Files.list(cache)) {
                dirs.map(d -> d.resolve("boot")).forEach(places::add);
            }
        }
        Path real = null;
        for (Path place : places) {
            if (Files.isDirectory(place)) {
                try (var files = Files.list(place)) {
                    // x86 kernels: an arm64 Image (the ARM64 test's, in the cache) has no version in its header.
                    real = files.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")
                                    && !p.getFileName().toString().endsWith("-arm64")).findFirst()
                            .orElse(real);
                }
            }
        }
        assertThat(real).as("a readable vmlinuz-* in /boot or /var/cache/pivot/kernel/*/boot"
                + " (./test unpacks one: scripts/make-demo-image.sh --kernel-only)").isNotNull().isReadable();
        String release = real.getFileName().toString().substring("vmlinuz-".length());
        assertThat(KernelVersion.read(real)).hasValueSatisfying(v -> {
            assertThat(v.release()).isEqualTo(release);
            assertThat(v.full()).startsWith(release + " (");
        });
    }
}
