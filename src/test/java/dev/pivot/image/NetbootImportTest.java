package dev.pivot.image;

import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.format.Compression;
import dev.pivot.stage1.Prelude;
import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NetbootImportTest {

    @TempDir
    Path tmp;

    /** A NixOS-shaped netboot dir: bzImage, initrd = gzip stage 1 + zstd root cpio, the generated netboot.ipxe. */
    private Path netbootDir(Path squashfs) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("result"));
        byte[] kernel = new byte[12_345];
        new Random(4).nextBytes(kernel);
        Files.write(dir.resolve("bzImage"), kernel);
        Path stage1 = Fixtures.compress(Fixtures.stage1Cpio(tmp, "stage1"), "gzip -9n");
        Path root = Fixtures.compress(Fixtures.rootCpio(tmp, squashfs), "zstd -19 -q");
        Fixtures.concat(dir.resolve("initrd"), 0, stage1, root);
        Files.writeString(dir.resolve("netboot.ipxe"), NetbootIpxeTest.NIXOS);
        return dir;
    }

    private List<String> storedObjects(Path storeRoot) throws IOException {
        if (!Files.isDirectory(storeRoot.resolve("objects"))) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(storeRoot.resolve("objects"))) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }

    @Test
    void importsKernelStage1AndRootImage() throws Exception {
        Path squashfs = Fixtures.fakeSquashfs(tmp, 333_333);
        Path dir = netbootDir(squashfs);
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));

        ImportedImage image = NetbootImport.importDir(dir, store);

        assertThat(image.source()).isEqualTo(dir);
        assertThat(image.kernel().name()).isEqualTo("bzImage");
        assertThat(Files.readAllBytes(store.path(image.kernel()))).isEqualTo(Files.readAllBytes(dir.resolve("bzImage")));

        assertThat(image.stage1Initrd().name()).isEqualTo("initrd");
        assertThat(image.stage1Initrd().size() % 4).isZero();
        long stage1Length = Files.size(tmp.resolve("stage1.cpio.gzip__9n"));
        byte[] stored = Files.readAllBytes(store.path(image.stage1Initrd()));
        assertThat(Arrays.copyOf(stored, (int) stage1Length))
                .isEqualTo(Arrays.copyOf(Files.readAllBytes(dir.resolve("initrd")), (int) stage1Length));
        assertThat(Arrays.copyOfRange(stored, (int) stage1Length, stored.length))
                .isEqualTo(new byte[stored.length - (int) stage1Length]);

        assertThat(image.rootImage().name()).isEqualTo("nix-store.squashfs");
        assertThat(Files.readAllBytes(store.path(image.rootImage()))).isEqualTo(Files.readAllBytes(squashfs));
        assertThat(image.init()).startsWith("/nix/store/").endsWith("/init");
        assertThat(image.kernelArgs()).containsExactly("loglevel=4", "console=ttyS0,115200");

        // Importing again is idempotent: same artifacts, no new objects.
        List<String> before = storedObjects(tmp.resolve("store"));
        assertThat(NetbootImport.importDir(dir, store)).isEqualTo(image);
        assertThat(storedObjects(tmp.resolve("store"))).containsExactlyInAnyOrderElementsOf(before);
    }

    @Test
    void bootSpecPutsThePreludeAfterTheImagesStage1() throws Exception {
        Path dir = netbootDir(Fixtures.fakeSquashfs(tmp, 1000));
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));
        ImportedImage image = NetbootImport.importDir(dir, store);
        Artifact prelude = store.put(new ByteArrayInputStream(new byte[] {1, 2, 3, 4}), "pivot.cpio.gz");

        BootSpec spec = image.withPrelude(prelude);

        assertThat(spec.kernel()).isEqualTo(image.kernel());
        assertThat(spec.initrds()).containsExactly(image.stage1Initrd(), prelude);
        assertThat(spec.rootBoot()).contains(new BootSpec.RootBoot(image.rootImage(), image.init(), "/pivot/init"));
        assertThat(spec.kernelArgs()).isEqualTo(image.kernelArgs());
    }

    @Test
    void missingOrWrongDirectory() throws Exception {
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));
        Path absent = tmp.resolve("absent");
        assertThatThrownBy(() -> NetbootImport.importDir(absent, store))
                .isInstanceOf(ImageException.class).hasMessage(absent + ": no such directory");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertThatThrownBy(() -> NetbootImport.importDir(file, store)).hasMessage(file + ": not a directory");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        assertThatThrownBy(() -> NetbootImport.importDir(empty, store))
                .hasMessage(empty + ": no netboot.ipxe (not a NixOS netboot build?), no root.squashfs and no pivot.yaml;"
                        + " for a kernel and initrds alone: pivot serve --kernel FILE --initrd FILE --cmdline '…'");
        assertThat(storedObjects(tmp.resolve("store"))).isEmpty();
    }

    @Test
    void aSystemToplevelIsNamedAndTheNetbootBuildAskedFor() throws Exception {
        Path toplevel = Files.createDirectories(tmp.resolve("nixos-system-pc-24.11"));
        for (String f : new String[] {"init", "kernel", "initrd", "nixos-version", "kernel-params"}) {
            Files.writeString(toplevel.resolve(f), "x");
        }
        assertThatThrownBy(() -> NetbootImport.importDir(toplevel, ArtifactStore.open(tmp.resolve("store"))))
                .hasMessage(toplevel + ": a NixOS system toplevel, which has no root image (nix-store.squashfs) to"
                        + " serve; give its netboot build (config.system.build.netboot) instead");
    }

    @Test
    void scriptWithoutInit() throws Exception {
        Path dir = netbootDir(Fixtures.fakeSquashfs(tmp, 1000));
        Files.writeString(dir.resolve("netboot.ipxe"), NetbootIpxeTest.NIXOS.replaceAll("init=\\S+ ", ""));
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));
        assertThatThrownBy(() -> NetbootImport.importDir(dir, store))
                .hasMessage(dir.resolve("netboot.ipxe") + ": the kernel line has no init= parameter");
        assertThat(storedObjects(tmp.resolve("store"))).isEmpty();
    }

    @Test
    void kernelOrInitrdNamedInTheScriptIsMissing() throws Exception {
        Path dir = netbootDir(Fixtures.fakeSquashfs(tmp, 1000));
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));
        Files.delete(dir.resolve("bzImage"));
        assertThatThrownBy(() -> NetbootImport.importDir(dir, store))
                .hasMessage(dir.resolve("netboot.ipxe") + ": kernel file bzImage is missing (" + dir.resolve("bzImage")
                        + ")");
        Files.write(dir.resolve("bzImage"), new byte[] {1});
        Files.delete(dir.resolve("initrd"));
        assertThatThrownBy(() -> NetbootImport.importDir(dir, store))
                .hasMessage(dir.resolve("netboot.ipxe") + ": initrd file initrd is missing (" + dir.resolve("initrd")
                        + ")");
        assertThat(storedObjects(tmp.resolve("store"))).isEmpty();
    }

    @Test
    void initrdThatIsNotCpio() throws Exception {
        Path dir = netbootDir(Fixtures.fakeSquashfs(tmp, 1000));
        Files.write(dir.resolve("initrd"), new byte[] {'M', 'Z', 0, 1, 2, 3, 4, 5});
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));
        assertThatThrownBy(() -> NetbootImport.importDir(dir, store))
                .hasMessage(dir.resolve("initrd") + ": not a cpio archive (magic 4d5a00010203)");
        assertThat(storedObjects(tmp.resolve("store"))).isEmpty();
    }

    @Test
    void initrdWithoutRootImage() throws Exception {
        Path dir = netbootDir(Fixtures.fakeSquashfs(tmp, 1000));
        Files.copy(tmp.resolve("stage1.cpio.gzip__9n"), dir.resolve("initrd"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));
        assertThatThrownBy(() -> NetbootImport.importDir(dir, store))
                .hasMessage(dir.resolve("initrd") + ": no nix-store.squashfs in any of its 1 archives (gzip cpio: "
                        + Fixtures.entryCount(tmp.resolve("stage1.cpio")) + " entries)");
        assertThat(storedObjects(tmp.resolve("store"))).isEmpty();
    }

    @Test
    void initrdHoldingOnlyTheRootImageHasNoStage1() throws Exception {
        Path squashfs = Fixtures.fakeSquashfs(tmp, 1000);
        Path dir = netbootDir(squashfs);
        Files.copy(Fixtures.compress(tmp.resolve("root.cpio"), "gzip -9n"), dir.resolve("initrd"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));
        assertThatThrownBy(() -> NetbootImport.importDir(dir, store))
                .hasMessage(dir.resolve("initrd") + ": nothing comes before nix-store.squashfs, so there is no stage 1"
                        + " to boot");
    }

    @Test
    void realSquashfsSurvivesAndStage1PlusPreludeUnpackInOrder() throws Exception {
        Tools.require("mksquashfs", "squashfs-tools");
        dev.pivot.testsupport.Require.file(Path.of("/bin/busybox"), "busybox-static"); // for the prelude
        Path store1 = Files.createDirectories(tmp.resolve("nix/store/0a1b2c-nixos-system-test"));
        Files.writeString(store1.resolve("init"), "#!/bin/sh\necho stage 2\n");
        Path squashfs = tmp.resolve("store.squashfs");
        Tools.sh(tmp, "mksquashfs nix/store " + squashfs + " -comp zstd -quiet -no-progress -all-root");
        Path dir = netbootDir(squashfs);
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));

        ImportedImage image = NetbootImport.importDir(dir, store);
        String listing = Tools.sh(tmp, "unsquashfs -l " + store.path(image.rootImage()));
        assertThat(listing).contains("squashfs-root/0a1b2c-nixos-system-test/init");

        // What the EFI stub hands the kernel: the initrds back to back, without any alignment of its own.
        Artifact prelude = Prelude.build(store);
        Path concatenated = Fixtures.concat(tmp.resolve("efi-initrd"), 0, store.path(image.stage1Initrd()),
                store.path(prelude));
        List<InitrdSegment> segments = InitrdSplitter.segments(concatenated);
        assertThat(segments).extracting(InitrdSegment::compression).containsExactly(Compression.GZIP, Compression.GZIP);
        assertThat(segments.get(1).start() % 4).isZero();
        assertThat(segments.get(0).entries()).hasSize(Fixtures.entryCount(tmp.resolve("stage1.cpio")));
        assertThat(segments.get(1).entries()).extracting(e -> e.path()).contains("pivot/init", "dev/console");
    }
}
