package dev.pivot.server;

import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class Arm64GrubTest {

    @TempDir
    Path tmp;

    private static Inet4Address server() throws Exception {
        return (Inet4Address) InetAddress.getByName("10.77.0.1");
    }

    @Test
    void aMissingToolOrModuleDirectoryIsOneLineNamingItsPackage() throws Exception {
        Arm64Grub.Found noTool = Arm64Grub.build(List.of(tmp), List.of(tmp.resolve("bin")), tmp.resolve("out"),
                server(), 80);
        assertThat(noTool).isEqualTo(new Arm64Grub.Found.Missing("ARM64 machines get no loader: grub-mkimage missing"
                + " (install the Debian package grub-common); looked in [" + tmp.resolve("bin") + "]"));

        Require.command("grub-mkimage", "grub-common");
        Arm64Grub.Found noModules = Arm64Grub.build(List.of(tmp), List.of(Path.of("/usr/bin")), tmp.resolve("out"),
                server(), 80);
        assertThat(noModules).isInstanceOf(Arm64Grub.Found.Missing.class);
        assertThat(((Arm64Grub.Found.Missing) noModules).line()).contains("grub-efi-arm64-bin:arm64")
                .contains("scripts/fetch-boot-loaders.sh --arm64").contains("/usr/lib/grub/arm64-efi/http.mod");
        assertThat(tmp.resolve("out")).doesNotExist();
    }

    @Test
    void buildsAnArm64EfiImageNamingThisServerAsItsPrefix() throws Exception {
        Require.command("grub-mkimage", "grub-common");
        Require.file(Arm64Grub.UNPACKED.resolve(Arm64Grub.MODULES_IN_PACKAGE).resolve("http.mod"),
                "grub-efi-arm64-bin:arm64 (scripts/fetch-boot-loaders.sh --arm64)");
        Path served = tmp.resolve("loaders/arm64");
        Arm64Grub.Found found = Arm64Grub.build(served, server(), 8080);
        assertThat(found).isEqualTo(new Arm64Grub.Found.Built(served));
        Path efi = served.resolve(Arm64Grub.FILE);
        byte[] image = Files.readAllBytes(efi);
        ByteBuffer b = ByteBuffer.wrap(image).order(ByteOrder.LITTLE_ENDIAN);
        int pe = b.getInt(0x3c);
        assertThat(new String(image, pe, 4, java.nio.charset.StandardCharsets.ISO_8859_1)).isEqualTo("PE\0\0");
        assertThat(b.getShort(pe + 4) & 0xffff).as("PE machine: arm64").isEqualTo(0xaa64);
        String text = new String(image, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(text).as("the prefix and the embedded config are in the image")
                .contains("(http,10.77.0.1:8080)/grub").contains("net_bootp");
        try (var files = Files.list(served)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList())
                    .as("only the loader is in the served directory").containsExactly(Arm64Grub.FILE);
        }
    }
}
