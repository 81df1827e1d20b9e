package dev.pivot.image;

import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.BootSource;
import dev.pivot.boot.BootSpec;
import dev.pivot.testsupport.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A kernel with initrds and a command line, served as they are: which files count as a kernel, how they are named
 * and stored, and when a directory's pivot.yaml means "this kernel alone".
 */
class KernelImportTest {

    @TempDir
    Path tmp;

    private static byte[] bzImage(int size) {
        byte[] b = new byte[size];
        System.arraycopy("HdrS".getBytes(StandardCharsets.US_ASCII), 0, b, 0x202, 4);
        return b;
    }

    @Test
    void kernelsAreKnownByTheirHeaders() {
        assertThat(KernelImport.looksLikeKernel(bzImage(0x210))).as("x86 bzImage").isTrue();
        byte[] arm64 = new byte[0x40];
        System.arraycopy(new byte[] {'A', 'R', 'M', 0x64}, 0, arm64, 0x38, 4);
        assertThat(KernelImport.looksLikeKernel(arm64)).as("arm64 Image").isTrue();
        assertThat(KernelImport.looksLikeKernel("MZ\0\0".getBytes(StandardCharsets.US_ASCII))).as("EFI PE").isTrue();
        assertThat(KernelImport.looksLikeKernel(new byte[] {0x1f, (byte) 0x8b, 8, 0})).as("a gzip initrd").isFalse();
        assertThat(KernelImport.looksLikeKernel("070701".getBytes(StandardCharsets.US_ASCII))).as("a cpio").isFalse();
        assertThat(KernelImport.looksLikeKernel(new byte[0x100])).as("too short for a header").isFalse();
    }

    @Test
    void namesStayFileNamesUniqueAndOneWord() {
        Set<String> taken = new HashSet<>();
        assertThat(KernelImport.uniqueName(Path.of("/a/linux"), taken)).isEqualTo("linux");
        assertThat(KernelImport.uniqueName(Path.of("/a/initrd.gz"), taken)).isEqualTo("initrd.gz");
        assertThat(KernelImport.uniqueName(Path.of("/b/initrd.gz"), taken)).isEqualTo("initrd.gz-2");
        assertThat(KernelImport.uniqueName(Path.of("/c/initrd.gz"), taken)).isEqualTo("initrd.gz-3");
        assertThat(KernelImport.uniqueName(Path.of("/d/my firmware$.cpio"), taken)).isEqualTo("my_firmware_.cpio");
        assertThat(KernelImport.uniqueName(Path.of("/d/.hidden"), taken)).isEqualTo("_hidden");
    }

    @Test
    void importStoresEachFileContentAddressedAndKeepsTheCommandLine() throws Exception {
        Path kernel = Files.write(tmp.resolve("linux"), bzImage(5000));
        Path first = Files.write(tmp.resolve("initrd.gz"), new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3});
        Path second = Files.write(Files.createDirectories(tmp.resolve("fw")).resolve("initrd.gz"), new byte[] {9});
        ArtifactStore store = ArtifactStore.open(tmp.resolve("state"));

        BootSpec spec = KernelImport.importFiles(new BootSource.KernelFiles(kernel, List.of(first, second),
                List.of("console=ttyS0,115200", "priority=low")), store, "--");

        assertThat(spec.rootBoot()).as("no Pivot stage 1").isEmpty();
        assertThat(spec.kernel().name()).isEqualTo("linux");
        assertThat(spec.kernel().sha256()).isEqualTo(TestFiles.sha256(kernel));
        assertThat(Files.readAllBytes(store.path(spec.kernel()))).isEqualTo(Files.readAllBytes(kernel));
        assertThat(spec.initrds()).extracting(a -> a.name()).containsExactly("initrd.gz", "initrd.gz-2");
        // Initrds are zero-padded to 4 bytes, as every initrd Pivot serves, so loaders may concatenate them.
        assertThat(spec.initrds()).allMatch(a -> a.size() % 4 == 0);
        assertThat(spec.initrds().getFirst().size()).isEqualTo(8);
        assertThat(spec.kernelArgs()).containsExactly("console=ttyS0,115200", "priority=low");
    }

    @Test
    void aPivotYamlWithoutARootImageIsAKernelAlone() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("d-i"));
        Files.write(dir.resolve("linux"), bzImage(1000));
        Files.write(dir.resolve("initrd.gz"), new byte[] {1});
        Files.write(dir.resolve("extra.cpio"), new byte[] {2});
        Files.writeString(dir.resolve("pivot.yaml"), "# the Debian installer\ncmdline: console=ttyS0,115200  priority=low\n");
        assertThat(GenericImport.kernelOnly(dir)).contains(new BootSource.KernelFiles(dir.resolve("linux"),
                List.of(dir.resolve("initrd.gz")), List.of("console=ttyS0,115200", "priority=low")));

        Files.writeString(dir.resolve("pivot.yaml"), "kernel: linux\ninitrd: initrd.gz extra.cpio\n");
        assertThat(GenericImport.kernelOnly(dir)).contains(new BootSource.KernelFiles(dir.resolve("linux"),
                List.of(dir.resolve("initrd.gz"), dir.resolve("extra.cpio")), List.of()));

        Files.writeString(dir.resolve("pivot.yaml"), "kernel: linux\ninitrd: initrd.gz missing.cpio\n");
        assertThatThrownBy(() -> GenericImport.kernelOnly(dir)).isInstanceOf(ImageException.class)
                .hasMessage(dir.resolve("pivot.yaml") + ": initrd missing.cpio is not a file in " + dir);

        Files.writeString(dir.resolve("pivot.yaml"), "init: /sbin/init\n");
        assertThatThrownBy(() -> GenericImport.kernelOnly(dir)).hasMessageContaining("init is for an image with a"
                + " root image (squashfs), and this one names none");

        Files.writeString(dir.resolve("pivot.yaml"), "squashfs: root.sqfs\n");
        assertThat(GenericImport.kernelOnly(dir)).as("a root image named: Pivot's stage 1").isEqualTo(Optional.empty());
        Files.writeString(dir.resolve("pivot.yaml"), "cmdline: quiet\n");
        Files.write(dir.resolve("root.squashfs"), "hsqs".getBytes(StandardCharsets.US_ASCII));
        assertThat(GenericImport.kernelOnly(dir)).as("a root.squashfs beside it").isEmpty();
    }
}
