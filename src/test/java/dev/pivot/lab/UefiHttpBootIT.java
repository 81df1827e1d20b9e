package dev.pivot.lab;

import dev.pivot.demo.DemoImage;
import dev.pivot.demo.Qemu;
import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * OVMF's own UEFI HTTP Boot (the NIC's iPXE ROM off, OVMF's PXE off) against `pivot serve`: DHCP answers the vendor
 * class "HTTPClient" with the loader's URL and echoes the vendor class, the firmware fetches shim (by default) or
 * iPXE (--efi-loader ipxe.efi) over HTTP, and the boot reaches stage 2 without one TFTP packet served.
 */
class UefiHttpBootIT {

    private static final Duration BOOT_LIMIT = Duration.ofSeconds(240);

    @TempDir
    static Path shared;
    private static Path image;

    @BeforeAll
    static void buildImage() {
        Require.vmLab();
        Path root = Require.packagedCli();
        Require.file(Path.of("/usr/share/OVMF/OVMF_CODE_4M.fd"), "ovmf");
        FirmwareLab.fetchBootLoaders();
        image = DemoImage.build(root, shared.resolve("image"));
    }

    /**
     * The default: shim by URL, as for a Secure Boot machine (DHCP cannot tell them apart); shim fetches GRUB from
     * the same URL directory and GRUB takes its config, kernel and initrds over HTTP.
     */
    @ParameterizedTest(name = "--dhcp {0}")
    @ValueSource(strings = {"full", "proxy"})
    @Timeout(value = 360, unit = TimeUnit.SECONDS)
    void firmwareFetchesShimByUrlAndNothingByTftp(String dhcpMode, @TempDir Path state) {
        FirmwareLab.Outcome boot = FirmwareLab.boot("http" + dhcpMode.charAt(0), image, Qemu.Boot.UEFI_HTTP_BOOT,
                dhcpMode, List.of(), state, Qemu.DEFAULT_MARKER, BOOT_LIMIT, FirmwareLab::stage2Recorded);
        System.out.printf("UefiHttpBootIT [--dhcp %s, shim -> GRUB]: QEMU start -> '%s' in %s%n", dhcpMode,
                Qemu.DEFAULT_MARKER, Qemu.seconds(boot.took()));
        boot.serial().lines().filter(l -> l.contains("Pivot: GRUB")).forEach(l -> System.out.println("console | " + l));
        assertThat(boot.serverLines()).as("the firmware fetched shim, shim GRUB, over HTTP")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.contains("http://10.77.0.1/ipxe/shimx64.efi"))
                .anyMatch(l -> l.contains("/ipxe/shimx64.efi to"))
                .anyMatch(l -> l.contains("/ipxe/grubx64.efi to"))
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+script\\s+grub\\.cfg.*"));
        assertThat(boot.serial()).as("GRUB found its prefix on the server it was fetched from, over HTTP")
                .contains("from (http,10.77.0.1)/grub");
        assertHttpOnly(boot);
    }

    /** With --efi-loader ipxe.efi the firmware fetches the distro's iPXE by URL, which fetches its script. */
    @Test
    @Timeout(value = 360, unit = TimeUnit.SECONDS)
    void withEfiLoaderIpxeTheFirmwareFetchesIpxeByUrl(@TempDir Path state) {
        FirmwareLab.Outcome boot = FirmwareLab.boot("httpi", image, Qemu.Boot.UEFI_HTTP_BOOT, "full",
                List.of("--efi-loader", "ipxe.efi"), state, Qemu.DEFAULT_MARKER, BOOT_LIMIT,
                FirmwareLab::stage2Recorded);
        System.out.printf("UefiHttpBootIT [--dhcp full, ipxe.efi]: QEMU start -> '%s' in %s%n", Qemu.DEFAULT_MARKER,
                Qemu.seconds(boot.took()));
        assertThat(boot.serverLines()).as("DHCP answered the HTTP Boot client with the loader's URL")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.contains("http://10.77.0.1/ipxe/ipxe.efi"));
        assertThat(boot.serverLines()).as("the firmware fetched its loader over HTTP")
                .anyMatch(l -> l.contains("/ipxe/ipxe.efi to"));
        assertHttpOnly(boot);
    }

    private static void assertHttpOnly(FirmwareLab.Outcome boot) {
        assertThat(boot.serial()).as("OVMF took the HTTP Boot path").contains("UEFI HTTPv4");
        assertThat(boot.tftpPackets()).as("UDP packets to port 69 the server's side of the lab received").isZero();
        assertThat(boot.serverLines()).as("no TFTP step on the timeline, no TFTP request logged")
                .noneMatch(l -> l.contains("TFTP:") || l.contains(FirmwareLab.MAC) && l.matches(".*\\s+tftp\\s+.*"));
        assertThat(boot.serial()).contains("pivot: root image").contains("sha256 ok").doesNotContain("pivot: FAILED");
    }
}
