package dev.pivot.lab;

import dev.pivot.testsupport.Require;
import dev.pivot.demo.DemoImage;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.Qemu;
import dev.pivot.demo.ServeProcess;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The walking skeleton, end to end: `pivot serve` in a private namespace network-boots a QEMU VM from the demo
 * image until the image's stage 2 prints its marker — every way firmware reaches Pivot. Stage 2 must find
 * /nix/store writable (the overlay stage 1 set up), and its report must reach the server: the timeline shows the
 * stage2 step and the API has the boot as succeeded.
 */
class NetbootIT {
    /** Under TCG a boot takes 20-45 s here; the limit leaves room for a loaded 2-core machine. */
    private static final Duration BOOT_LIMIT = Duration.ofSeconds(240);
    /** Stage 2 reports after printing its marker; the report is one HTTP request on the lab's bridge. */
    private static final Duration REPORT_LIMIT = Duration.ofSeconds(30);
    private static final String MAC = "52:54:00:77:00:31";
    private static final String WRITABLE = "PIVOT-DEMO: /nix/store is writable";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;
    private static Path image;

    @BeforeAll
    static void buildImage() {
        Require.vmLab();
        Path root = Require.packagedCli();
        FirmwareLab.fetchBootLoaders();
        image = DemoImage.build(root, shared.resolve("image"));
    }

    /** One way firmware reaches Pivot: {@code description} as the output line says it. */
    record Way(String description, Qemu.Boot firmware, String dhcpMode, boolean router, List<String> serveArgs) {
        Way(String description, Qemu.Boot firmware, String dhcpMode, boolean router) {
            this(description, firmware, dhcpMode, router, List.of());
        }
    }

    private static final List<String> IPXE_EFI = List.of("--efi-loader", "ipxe.efi");

    /** Each way named as its test was before they became one parameterized test. */
    static Stream<Named<Way>> ways() {
        return Stream.of(
                Named.of("biosIpxeRomWithFullDhcp", new Way("BIOS, NIC's iPXE ROM, --dhcp full",
                        Qemu.Boot.BIOS_IPXE_ROM, "full", false)),
                Named.of("uefiWithTheNicsIpxeRom", new Way("UEFI OVMF, NIC's iPXE EFI ROM, --dhcp full",
                        Qemu.Boot.UEFI_IPXE_ROM, "full", false)),
                Named.of("uefiOwnPxeChainsIpxeEfiOverTftp", new Way(
                        "UEFI OVMF's own PXE -> TFTP ipxe.efi (--efi-loader ipxe.efi), --dhcp full",
                        Qemu.Boot.UEFI_OWN_PXE, "full", false, IPXE_EFI)),
                // Pivot's default for UEFI PXE clients: shim, then Debian's signed network GRUB (Secure Boot or not).
                Named.of("uefiOwnPxeShimThenGrubByDefault", new Way(
                        "UEFI OVMF's own PXE -> TFTP shim -> GRUB (default), --dhcp full",
                        Qemu.Boot.UEFI_OWN_PXE, "full", false)),
                Named.of("proxyDhcpBesideAPlainRouter", new Way(
                        "BIOS, NIC's iPXE ROM, --dhcp proxy beside dnsmasq-base",
                        Qemu.Boot.BIOS_IPXE_ROM, "proxy", true)),
                Named.of("proxyDhcpUefiWithTheNicsIpxeRom", new Way(
                        "UEFI OVMF, NIC's iPXE EFI ROM, --dhcp proxy beside dnsmasq-base",
                        Qemu.Boot.UEFI_IPXE_ROM, "proxy", true)),
                Named.of("proxyDhcpUefiOwnPxeChainsIpxeEfi", new Way(
                        "UEFI OVMF's own PXE -> TFTP ipxe.efi (--efi-loader ipxe.efi), --dhcp proxy beside dnsmasq-base",
                        Qemu.Boot.UEFI_OWN_PXE, "proxy", true, IPXE_EFI)),
                // Under ProxyDHCP too the default is shim -> GRUB: GRUB 2.12 reads the ProxyDHCP offer.
                Named.of("proxyDhcpUefiOwnPxeByDefault", new Way(
                        "UEFI OVMF's own PXE -> TFTP shim -> GRUB (default), --dhcp proxy beside dnsmasq-base",
                        Qemu.Boot.UEFI_OWN_PXE, "proxy", true)),
                // The NIC's iPXE ROM is handed the distro's undionly.kpxe over TFTP first; that iPXE asks DHCP
                // again and must get the script this time, not the upgrade again (netboot-facts pitfall 9).
                Named.of("biosIpxeRomUpgradedToTheDistrosIpxe", new Way(
                        "BIOS, NIC's iPXE ROM -> TFTP undionly.kpxe (--ipxe-upgrade), --dhcp full",
                        Qemu.Boot.BIOS_IPXE_ROM, "full", false, List.of("--ipxe-upgrade"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ways")
    void bootsToStage2(Way way, @TempDir Path state) {
        List<String> serverLines = boot(way.description(), way.firmware(), way.dhcpMode(), way.router(),
                way.serveArgs(), state);
        if (way.firmware() == Qemu.Boot.UEFI_OWN_PXE) {
            String first = way.serveArgs().equals(IPXE_EFI) ? "ipxe.efi" : "shimx64.efi";
            assertThat(serverLines).as("the firmware's own PXE fetched " + first)
                    .anyMatch(l -> l.contains("TFTP: sent '" + first + "'"));
        }
        if (serverLines.stream().anyMatch(l -> l.contains("TFTP: sent 'grubx64.efi'"))) {
            assertThat(serverLines).as("GRUB 2.12 (its http module) took kernel and initrds over HTTP, as HTTP steps")
                    .anyMatch(l -> l.contains(MAC) && l.matches(".*\\s+kernel\\s+bzImage\\s.*"))
                    .anyMatch(l -> l.contains(MAC) && l.matches(".*\\s+initrd\\s+pivot\\.cpio\\.gz\\s.*"))
                    .noneMatch(l -> l.contains("TFTP: sent '/artifacts/"));
        }
        if (way.serveArgs().contains("--ipxe-upgrade")) {
            assertThat(serverLines).as("the ROM fetched the distro's iPXE once")
                    .filteredOn(l -> l.contains("TFTP: sent 'undionly.kpxe'")).hasSize(1);
        }
    }

    private static List<String> boot(String way, Qemu.Boot firmware, String dhcpMode, boolean router,
                                     List<String> serveArgs, Path state) {
        List<String> serverLines = new CopyOnWriteArrayList<>();
        try (LabNetwork lab = LabNetwork.create("e2e")) {
            if (router) {
                lab.addPlainDhcpRouter();
            }
            ServeProcess server = ServeProcess.start(lab, Require.pivotRoot(), image, dhcpMode, state,
                    serveArgs, line -> {
                        serverLines.add(line);
                        System.out.println("serve | " + line);
                    });
            try (Qemu vm = Qemu.start(lab.namespace(), Qemu.Spec.of(firmware, Qemu.Nic.VIRTIO, MAC,
                    LabNetwork.TAP, lab.workDir().resolve("serial.log")))) {
                Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
                System.out.printf("NetbootIT [%s]: QEMU start -> '%s' in %s%n", way, Qemu.DEFAULT_MARKER,
                        Qemu.seconds(took));
                assertThat(vm.serial()).contains("pivot: root image").contains("sha256 ok")
                        .doesNotContain("pivot: FAILED");
                assertThat(vm.serial()).as("stage 2 wrote to /nix/store").contains(WRITABLE);
                assertThat(took).isLessThan(BOOT_LIMIT);
                awaitStage2Recorded(lab, serverLines, vm);
                assertThat(server.isAlive()).as("pivot serve still running after the boot").isTrue();
            }
        }
        return serverLines;
    }

    /**
     * Waits until the server printed the machine's stage2 step and its API (asked from inside the namespace, where
     * the server listens) shows the last boot as succeeded, which it records from stage 2's report alone.
     */
    private static void awaitStage2Recorded(LabNetwork lab, List<String> serverLines, Qemu vm) {
        long deadline = System.nanoTime() + REPORT_LIMIT.toNanos();
        String state = "";
        boolean timeline = false;
        while (System.nanoTime() < deadline) {
            timeline = serverLines.stream().anyMatch(l -> l.contains(MAC)
                    && l.matches(".*\\+\\s*[0-9.]+s\\s+stage2\\s.*"));
            try {
                String body = lab.namespace().exec("curl", "-s", "--max-time", "2",
                        "http://" + LabNetwork.SERVER_ADDRESS + "/api/v1/machines/" + MAC);
                state = JSON.readTree(body).path("lastBoot").path("state").asText();
            } catch (RuntimeException | IOException notYet) {
                state = "(no answer: " + notYet.getMessage() + ")";
            }
            if (timeline && state.equals("succeeded")) {
                return;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for the stage-2 report", e);
            }
        }
        throw new AssertionError("stage 2's report not recorded within " + REPORT_LIMIT.toSeconds()
                + " s: stage2 on the timeline " + timeline + ", lastBoot.state '" + state + "'\nserver:\n"
                + String.join("\n", serverLines) + "\nconsole:\n" + vm.tail(30));
    }
}
