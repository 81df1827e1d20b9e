package dev.pivot.lab;

import dev.pivot.demo.DemoImage;
import dev.pivot.demo.Qemu;
import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An ARM64 machine (qemu-system-aarch64 "virt", emulated, with Debian's AAVMF) boots the arm64 test image from
 * `pivot serve`: AAVMF's own PXE asks DHCP as arch 11, gets the GRUB for arm64 Pivot built with grub-mkimage (by
 * TFTP), GRUB reads its grub.cfg and loads Debian's arm64 kernel and the initrds over HTTP, the arm64 prelude
 * (busybox-static:arm64) fetches the root image, and the image's stage 2 reports. As the network's DHCP server, and
 * as ProxyDHCP beside dnsmasq-base, whose answer GRUB's network takes its lease from; and set to UEFI HTTP Boot
 * (arch 19), where the firmware fetches GRUB by URL and no TFTP packet is sent.
 */
class Arm64NetbootIT {

    private static final Duration BOOT_LIMIT = Duration.ofSeconds(420);

    @TempDir
    static Path shared;
    private static Path image;

    @BeforeAll
    static void buildImage() {
        Require.vmLab();
        Path root = Require.packagedCli();
        Require.command("qemu-system-aarch64", "qemu-system-arm");
        Require.file(Qemu.AAVMF, "qemu-efi-aarch64");
        Require.command("grub-mkimage", "grub-common");
        FirmwareLab.fetchBootLoaders(List.of("--arm64"));
        image = DemoImage.build(root, shared.resolve("image"), "--arch", "arm64");
    }

    @ParameterizedTest(name = "--dhcp {0}")
    @ValueSource(strings = {"full", "proxy"})
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void arm64MachineBootsThroughGrubToStage2(String dhcpMode, @TempDir Path state) {
        FirmwareLab.Outcome boot = FirmwareLab.boot("arm" + dhcpMode.charAt(0), image, Qemu.Boot.ARM64_UEFI,
                dhcpMode, List.of(), state, Qemu.DEFAULT_MARKER, BOOT_LIMIT, FirmwareLab::stage2Recorded);
        System.out.printf("Arm64NetbootIT [--dhcp %s]: QEMU start -> '%s' in %s%n", dhcpMode, Qemu.DEFAULT_MARKER,
                Qemu.seconds(boot.took()));
        assertThat(boot.serverLines()).as("pivot serve built GRUB for arm64 at start")
                .anyMatch(l -> l.contains("ARM64 UEFI clients get GRUB arm64"));
        assertThat(boot.serverLines()).as("DHCP answered the ARM64 firmware with GRUB arm64")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.contains("grubaa64.efi"));
        assertThat(boot.serverLines()).as("stage 1 ran Pivot's arm64 prelude")
                .anyMatch(l -> l.contains("arm64 kernel: stage 1 gets busybox from"));
        assertThat(boot.serial()).as("the GRUB Pivot built ran and read its config over HTTP")
                .contains("Pivot: GRUB arm64, config from (http,10.77.0.1")
                .contains("Pivot: loading kernel Image");
        assertThat(boot.serverLines()).as("grub.cfg, kernel and initrds on the machine's timeline")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+script\\s+grub\\.cfg.*"))
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+kernel\\s+Image.*"));
        assertThat(boot.serverLines()).as("stage 1 reported from Debian's arm64 kernel")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+stage1\\s+.*kernel 6\\S*-arm64.*"));
        assertThat(boot.serial()).contains("pivot: root image").contains("sha256 ok").doesNotContain("pivot: FAILED");
    }

    /**
     * Under --dhcp proxy the router (dnsmasq-base) leases the address and Pivot's ProxyDHCP offer carries GRUB's URL;
     * GRUB names this server in its built-in prefix, so it needs nothing more from DHCP.
     */
    @ParameterizedTest(name = "--dhcp {0}")
    @ValueSource(strings = {"full", "proxy"})
    @Timeout(value = 600, unit = TimeUnit.SECONDS)
    void arm64HttpBootFetchesGrubByUrlAndNothingByTftp(String dhcpMode, @TempDir Path state) {
        FirmwareLab.Outcome boot = FirmwareLab.boot("armh" + dhcpMode.charAt(0), image, Qemu.Boot.ARM64_UEFI_HTTP_BOOT,
                dhcpMode, List.of(), state, Qemu.DEFAULT_MARKER, BOOT_LIMIT, FirmwareLab::stage2Recorded);
        System.out.printf("Arm64NetbootIT [HTTP Boot, --dhcp %s]: QEMU start -> '%s' in %s%n", dhcpMode,
                Qemu.DEFAULT_MARKER, Qemu.seconds(boot.took()));
        assertThat(boot.serial()).as("AAVMF took the HTTP Boot path").contains("UEFI HTTPv4");
        assertThat(boot.serverLines()).as("DHCP answered the HTTP Boot client with GRUB's URL")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.contains("http://10.77.0.1/ipxe/grubaa64.efi"));
        if (dhcpMode.equals("proxy")) {
            assertThat(boot.serverLines()).as("Pivot answered as ProxyDHCP only; the router leased the address")
                    .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.contains("proxy offer"))
                    .noneMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\sdhcp\\s+(offer|ack)\\s.*"));
        }
        assertThat(boot.serverLines()).as("the firmware fetched GRUB over HTTP")
                .anyMatch(l -> l.contains("/ipxe/grubaa64.efi to"));
        assertThat(boot.tftpPackets()).as("UDP packets to port 69 the server's side of the lab received").isZero();
        assertThat(boot.serverLines()).as("grub.cfg and the kernel on the machine's timeline")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+script\\s+grub\\.cfg.*"))
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+kernel\\s+Image.*"));
        assertThat(boot.serial()).contains("pivot: root image").contains("sha256 ok").doesNotContain("pivot: FAILED");
    }
}
