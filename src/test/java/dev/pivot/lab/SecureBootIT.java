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
 * A UEFI machine with Secure Boot enforcing (OVMF with Microsoft's keys enrolled) boots from `pivot serve` with its
 * DEFAULT settings: its own PXE loads shim over TFTP, shim verifies Debian's signed GRUB, GRUB loads Debian's
 * signed kernel (shim verifies it) and Pivot's prelude over HTTP (Debian 13's GRUB 2.12 has the http module), and
 * stage 2 is reached with Secure Boot on, under --dhcp full and under the default --dhcp proxy beside a router. The same machine handed the distro's iPXE
 * (--efi-loader ipxe.efi) is stopped by its firmware, as `pivot serve` warned.
 */
class SecureBootIT {

    /** Under TCG (q35 + SMM) a boot took about a minute here; the limit leaves room for a loaded 2-core machine. */
    private static final Duration BOOT_LIMIT = Duration.ofSeconds(300);

    @TempDir
    static Path shared;
    private static Path image;

    @BeforeAll
    static void buildImage() {
        Require.vmLab();
        Path root = Require.packagedCli();
        Require.file(Path.of("/usr/share/OVMF/OVMF_CODE_4M.ms.fd"), "ovmf");
        FirmwareLab.fetchBootLoaders();
        image = DemoImage.build(root, shared.resolve("image"));
    }

    @Test
    @Timeout(value = 420, unit = TimeUnit.SECONDS)
    void shimThenGrubThenDebiansSignedKernelWithTheDefaultSettings(@TempDir Path state) {
        FirmwareLab.Outcome boot = FirmwareLab.boot("sb", image, Qemu.Boot.UEFI_SECURE_BOOT, "full", List.of(),
                state, Qemu.DEFAULT_MARKER, BOOT_LIMIT, FirmwareLab::stage2Recorded);
        System.out.printf("SecureBootIT: QEMU start -> '%s' in %s%n", Qemu.DEFAULT_MARKER, Qemu.seconds(boot.took()));
        assertThat(boot.serverLines()).as("serve's choice for UEFI PXE clients")
                .anyMatch(l -> l.contains("UEFI PXE clients get shim -> GRUB"));
        assertThat(boot.serverLines()).as("the firmware fetched shim, shim fetched GRUB, GRUB its config")
                .anyMatch(l -> l.contains("TFTP: sent 'shimx64.efi'"))
                .anyMatch(l -> l.contains("TFTP: sent 'grubx64.efi'"))
                .anyMatch(l -> l.contains("TFTP: sent '/grub/grub.cfg'"))
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+script\\s+grub\\.cfg.*"));
        kernelAndInitrdsOverHttp(boot);
        assertThat(boot.serverLines()).as("shim's and GRUB's probes for optional files are no failures")
                .noneMatch(l -> l.contains("FAILED: revocations_") || l.contains("FAILED: /grub/x86_64-efi/"));
        boot.serial().lines().filter(l -> l.contains("ecure")).forEach(l -> System.out.println("console | " + l));
        assertThat(boot.tftpPackets()).as("the counter sees the TFTP the chain uses").isPositive();
        assertThat(boot.serial()).as("GRUB ran Pivot's config").contains("Pivot: loading kernel");
        assertThat(boot.serial()).as("the kernel booted with Secure Boot enforcing")
                .containsAnyOf("EFI stub: UEFI Secure Boot is enabled", "Secure boot enabled");
        assertThat(boot.serial()).contains("pivot: root image").contains("sha256 ok").doesNotContain("pivot: FAILED");
    }

    /**
     * The same machine with Pivot's default --dhcp proxy beside a router's DHCP (dnsmasq-base, no boot options): the
     * firmware takes its address from the router and shim's name from Pivot's ProxyDHCP offer; shim and GRUB come
     * from the server the firmware booted from, and GRUB 2.12 (Debian 13's, signed by Debian) reads that same offer
     * to find Pivot for its config, kernel and initrds. Debian 12's GRUB 2.06 would stop at its prompt here.
     */
    @Test
    @Timeout(value = 420, unit = TimeUnit.SECONDS)
    void shimThenGrubUnderTheDefaultProxyDhcpBesideARouter(@TempDir Path state) {
        FirmwareLab.Outcome boot = FirmwareLab.boot("sbpx", image, Qemu.Boot.UEFI_SECURE_BOOT, "proxy", List.of(),
                state, Qemu.DEFAULT_MARKER, BOOT_LIMIT, FirmwareLab::stage2Recorded);
        System.out.printf("SecureBootIT: --dhcp proxy, QEMU start -> '%s' in %s%n", Qemu.DEFAULT_MARKER,
                Qemu.seconds(boot.took()));
        assertThat(boot.serverLines()).as("serve gives UEFI PXE clients shim -> GRUB 2.12 under --dhcp proxy")
                .anyMatch(l -> l.contains("dhcp proxy"))
                .anyMatch(l -> l.contains("UEFI PXE clients get shim -> GRUB 2.12"))
                .noneMatch(l -> l.contains("cannot find Pivot under --dhcp proxy"));
        assertThat(boot.serverLines()).as("Pivot answered as ProxyDHCP, not as the DHCP server")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.contains("proxy offer shimx64.efi"))
                .noneMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\sdhcp\\s+(offer|ack)\\s.*"));
        assertThat(boot.serverLines()).as("GRUB found Pivot: its config came from Pivot's TFTP")
                .anyMatch(l -> l.contains("TFTP: sent 'shimx64.efi'"))
                .anyMatch(l -> l.contains("TFTP: sent 'grubx64.efi'"))
                .anyMatch(l -> l.contains("TFTP: sent '/grub/grub.cfg'"))
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+script\\s+grub\\.cfg.*"));
        kernelAndInitrdsOverHttp(boot);
        boot.serial().lines().filter(l -> l.contains("ecure")).forEach(l -> System.out.println("console | " + l));
        assertThat(boot.serial()).as("GRUB ran Pivot's config").contains("Pivot: loading kernel");
        assertThat(boot.serial()).as("the kernel booted with Secure Boot enforcing")
                .containsAnyOf("EFI stub: UEFI Secure Boot is enabled", "Secure boot enabled");
        assertThat(boot.serial()).as("the prelude fetched and checked the root image")
                .contains("pivot: root image").contains("sha256 ok").doesNotContain("pivot: FAILED");
    }

    /**
     * The Secure Boot machine set to UEFI HTTP Boot (its PXE off): DHCP answers "HTTPClient" with shim's URL, the
     * firmware fetches and verifies shim, shim fetches grubx64.efi from the same URL directory over the firmware's
     * HTTP, and GRUB 2.12 takes its config, kernel and initrds over HTTP from the server in that URL: no TFTP at all.
     */
    @ParameterizedTest(name = "--dhcp {0}")
    @ValueSource(strings = {"full", "proxy"})
    @Timeout(value = 420, unit = TimeUnit.SECONDS)
    void httpBootGetsShimByUrlThenGrubOverHttp(String dhcpMode, @TempDir Path state) {
        FirmwareLab.Outcome boot = FirmwareLab.boot("sbh" + dhcpMode.charAt(0), image, Qemu.Boot.UEFI_SECURE_HTTP_BOOT,
                dhcpMode, List.of(), state, Qemu.DEFAULT_MARKER, BOOT_LIMIT, FirmwareLab::stage2Recorded);
        System.out.printf("SecureBootIT: HTTP Boot, --dhcp %s, QEMU start -> '%s' in %s%n", dhcpMode,
                Qemu.DEFAULT_MARKER, Qemu.seconds(boot.took()));
        boot.serial().lines().filter(l -> l.contains("ecure") || l.contains("Pivot:") || l.contains("HTTP"))
                .forEach(l -> System.out.println("console | " + l));
        assertThat(boot.serial()).as("OVMF took the HTTP Boot path").contains("UEFI HTTPv4");
        assertThat(boot.serverLines()).as("serve gives UEFI HTTP Boot clients shim by URL")
                .anyMatch(l -> l.contains("UEFI HTTP Boot clients get the same by URL"));
        assertThat(boot.serverLines()).as("DHCP answered the HTTP Boot client with shim's URL")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.contains("http://10.77.0.1/ipxe/shimx64.efi"));
        assertThat(boot.serverLines()).as("the firmware fetched shim, shim fetched GRUB, both over HTTP")
                .anyMatch(l -> l.contains("/ipxe/shimx64.efi to"))
                .anyMatch(l -> l.contains("/ipxe/grubx64.efi to"))
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+script\\s+grub\\.cfg.*"));
        kernelAndInitrdsOverHttp(boot);
        assertThat(boot.tftpPackets()).as("UDP packets to port 69 the server's side of the lab received").isZero();
        assertThat(boot.serial()).as("GRUB ran Pivot's config").contains("Pivot: loading kernel");
        assertThat(boot.serial()).as("the kernel booted with Secure Boot enforcing")
                .containsAnyOf("EFI stub: UEFI Secure Boot is enabled", "Secure boot enabled");
        assertThat(boot.serial()).as("the prelude fetched and checked the root image")
                .contains("pivot: root image").contains("sha256 ok").doesNotContain("pivot: FAILED");
    }

    /**
     * GRUB 2.12 took kernel and initrds from Pivot's HTTP server (its http module, built into the signed image): the
     * kernel and initrd steps only HTTP records, as for iPXE, and no artifact over TFTP.
     */
    private static void kernelAndInitrdsOverHttp(FirmwareLab.Outcome boot) {
        assertThat(boot.serverLines()).as("serve says GRUB loads kernel and initrds over HTTP")
                .anyMatch(l -> l.contains("UEFI PXE clients get shim -> GRUB 2.12")
                        && l.contains("kernel and initrds over HTTP"));
        assertThat(boot.serverLines()).as("kernel and initrds came over HTTP, as HTTP steps")
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+kernel\\s+bzImage\\s.*"))
                .anyMatch(l -> l.contains(FirmwareLab.MAC) && l.matches(".*\\s+initrd\\s+pivot\\.cpio\\.gz\\s.*"))
                .noneMatch(l -> l.contains("TFTP: sent '/artifacts/"));
    }

    /** What the default avoids: Debian's iPXE is not signed by a key the firmware trusts, and serve says so. */
    @Test
    @Timeout(value = 300, unit = TimeUnit.SECONDS)
    void theDistrosIpxeIsRefusedByTheFirmwareAsServeWarned(@TempDir Path state) {
        FirmwareLab.Outcome boot = FirmwareLab.boot("sbipxe", image, Qemu.Boot.UEFI_SECURE_BOOT, "full",
                List.of("--efi-loader", "ipxe.efi"), state, "Access Denied", Duration.ofSeconds(180),
                lines -> lines.stream().anyMatch(l -> l.contains("TFTP: sent 'ipxe.efi'")));
        System.out.printf("SecureBootIT: QEMU start -> firmware refuses ipxe.efi in %s%n", Qemu.seconds(boot.took()));
        assertThat(boot.serverLines()).as("serve warned at start")
                .anyMatch(l -> l.contains("UEFI PXE clients get ipxe.efi (--efi-loader)")
                        && l.contains("Secure Boot on will not boot"));
        assertThat(boot.serial()).as("the firmware refused to start what it fetched")
                .containsPattern("failed to load Boot[0-9A-F]{4} \"UEFI PXEv4[^\n]*Access Denied");
        assertThat(boot.serial()).doesNotContain("iPXE initialising").doesNotContain(Qemu.DEFAULT_MARKER);
        assertThat(boot.serverLines()).as("no iPXE ever asked for its script")
                .noneMatch(l -> l.contains("boot.ipxe for"));
    }
}
