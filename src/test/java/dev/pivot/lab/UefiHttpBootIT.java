package dev.pivot.lab;

import dev.pivot.demo.DemoImage;
import dev.pivot.demo.Qemu;
import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.BeforeAll;
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
 * OVMF's own UEFI HTTP Boot (the NIC's iPXE ROM off, OVMF's PXE off) against `pivot serve` with its default
 * settings: DHCP answers the vendor class "HTTPClient" with the loader's URL and echoes the vendor class, the
 * firmware fetches iPXE over HTTP, and the boot reaches stage 2 without one TFTP packet served.
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

    @ParameterizedTest(name = "--dhcp {0}")
    @ValueSource(strings = {"full", "proxy"})
    @Timeout(value = 360, unit = TimeUnit.SECONDS)
    void firmwareFetchesItsLoaderByUrlAndNothingByTftp(String dhcpMode, @TempDir Path state) {
        FirmwareLab.Outcome boot = FirmwareLab.boot("http" + dhcpMode.charAt(0), image, Qemu.Boot.UEFI_HTTP_BOOT,
                dhcpMode, List.of(), state, Qemu.DEFAULT_MARKER, BOOT_LIMIT, FirmwareLab::stage2Recorded);
        System.out.printf("UefiHttpBootIT [--dhcp %s]: QEMU start -> '%s' in %s%n", dhcpMode, Qemu.DEFAULT_MARKER,
                Qemu.seconds(boot.took()));
        assertThat(boot.serial()).as("OVMF took the HTTP Boot path").contains("UEFI HTTPv4");
        assertThat(boot.serverLines()).as("DHCP answered the HTTP Boot client with the loader's URL")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.contains("http://10.77.0.1/ipxe/ipxe.efi"));
        assertThat(boot.serverLines()).as("the firmware fetched its loader over HTTP")
                .anyMatch(l -> l.contains("/ipxe/ipxe.efi to"));
        assertThat(boot.tftpPackets()).as("UDP packets to port 69 the server's side of the lab received").isZero();
        assertThat(boot.serverLines()).as("no TFTP step on the timeline, no TFTP request logged")
                .noneMatch(l -> l.contains("TFTP:") || l.contains(FirmwareLab.MAC) && l.matches(".*\\s+tftp\\s+.*"));
        assertThat(boot.serial()).contains("pivot: root image").contains("sha256 ok").doesNotContain("pivot: FAILED");
    }
}
