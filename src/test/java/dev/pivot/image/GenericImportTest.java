package dev.pivot.image;

import dev.pivot.artifacts.ArtifactStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Generic images: files found by convention or named in pivot.yaml; bad input named in one message. */
class GenericImportTest {

    @TempDir
    Path tmp;

    private Path dir(String... files) throws Exception {
        Path d = Files.createDirectories(tmp.resolve("img"));
        for (String f : files) {
            Files.write(d.resolve(f), f.equals("root.squashfs") || f.endsWith(".sqfs")
                    ? "hsqs and more".getBytes(StandardCharsets.US_ASCII) : ("bytes of " + f).getBytes(StandardCharsets.US_ASCII));
        }
        return d;
    }

    private ArtifactStore store() throws Exception {
        return ArtifactStore.open(tmp.resolve("state"));
    }

    @Test
    void conventionalNamesGiveALayoutModeImageWithSbinInit() throws Exception {
        Path d = dir("vmlinuz", "initrd", "root.squashfs");
        assertThat(GenericImport.isGeneric(d)).isTrue();
        ImportedImage image = GenericImport.importDir(d, store(), null);
        assertThat(image.kernel().name()).isEqualTo("vmlinuz");
        assertThat(image.stage1Initrd().name()).isEqualTo("initrd");
        assertThat(image.stage1Initrd().size() % 4).isZero();
        assertThat(image.rootImage().name()).isEqualTo("root.squashfs");
        assertThat(image.init()).isEqualTo("/sbin/init");
        assertThat(image.kernelArgs()).containsExactly("pivot.mode=layout");
    }

    @Test
    void theManifestNamesFilesInitAndCmdlineAndInitFromTheCommandLineWins() throws Exception {
        Path d = dir("kernel-6.1", "initrd.gz", "system.sqfs");
        Files.writeString(d.resolve("pivot.yaml"), """
                # a generic image
                kernel: kernel-6.1
                initrd: initrd.gz
                squashfs: "system.sqfs"
                init: /lib/systemd/systemd
                cmdline: console=ttyS0 quiet
                """);
        assertThat(GenericImport.isGeneric(d)).isTrue();
        ImportedImage image = GenericImport.importDir(d, store(), null);
        assertThat(image.init()).isEqualTo("/lib/systemd/systemd");
        assertThat(image.kernelArgs()).containsExactly("pivot.mode=layout", "console=ttyS0", "quiet");
        assertThat(GenericImport.importDir(d, store(), "/bin/sh").init()).isEqualTo("/bin/sh");
    }

    @Test
    void aNetbootBuildIsNotGeneric() throws Exception {
        Path d = dir("bzImage", "initrd", "netboot.ipxe", "root.squashfs");
        assertThat(GenericImport.isGeneric(d)).isFalse();
    }

    @Test
    void missingFilesAndBadManifestLinesAreNamed() throws Exception {
        Path d = dir("vmlinuz", "root.squashfs");
        assertThatThrownBy(() -> GenericImport.importDir(d, store(), null)).isInstanceOf(ImageException.class)
                .hasMessageContaining("no initrd").hasMessageContaining("initrd.img");
        Files.write(d.resolve("initrd"), new byte[] {1});
        Files.writeString(d.resolve("pivot.yaml"), "kernal: vmlinuz\n");
        assertThatThrownBy(() -> GenericImport.importDir(d, store(), null)).isInstanceOf(ImageException.class)
                .hasMessageContaining("pivot.yaml line 1").hasMessageContaining("kernal");
        Files.writeString(d.resolve("pivot.yaml"), "init: sbin/init\n");
        assertThatThrownBy(() -> GenericImport.importDir(d, store(), null))
                .hasMessageContaining("init sbin/init: not an absolute path");
        Files.delete(d.resolve("pivot.yaml"));
        Files.writeString(d.resolve("root.squashfs"), "not one");
        assertThatThrownBy(() -> GenericImport.importDir(d, store(), null)).hasMessageContaining("not a squashfs");
    }
}
