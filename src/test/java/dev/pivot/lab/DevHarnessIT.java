package dev.pivot.lab;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Proves the demo image, the stage-1 prelude and the lab classes before Pivot's servers exist: dnsmasq-base
 * (DHCP + TFTP, an HTTP script URL for iPXE) and busybox httpd serve a hand-written iPXE script and a hand-packed
 * prelude cpio (scripts/dev-netboot-harness.sh prepare) to a QEMU VM in a private namespace.
 */
class DevHarnessIT {
    private static final String URL = "http://" + LabNetwork.SERVER_ADDRESS + ":8080";

    @BeforeAll
    static void lab() {
        LabAssumptions.assumeVmLab();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"BIOS_IPXE_ROM, VIRTIO", "UEFI_IPXE_ROM, VIRTIO", "UEFI_OWN_PXE, VIRTIO", "BIOS_IPXE_ROM, E1000"})
    void bootsToStage2WithDebianPeers(Qemu.Boot boot, Qemu.Nic nic, @TempDir Path dir) {
        Path root = LabAssumptions.pivotRoot();
        Commands.run(List.of("bash", root.resolve("scripts/dev-netboot-harness.sh").toString(), "prepare",
                dir.toString(), URL));
        try (LabNetwork lab = LabNetwork.create("harn", true)) {
            NetNamespace ns = lab.namespace();
            ns.start(List.of("busybox", "httpd", "-f", "-p", LabNetwork.SERVER_ADDRESS + ":8080",
                    "-h", dir.resolve("http").toString()), lab.workDir().resolve("httpd.out"));
            Process dnsmasq = Dnsmasq.pxe(ns, LabNetwork.BRIDGE, LabNetwork.RANGE_START, LabNetwork.RANGE_END,
                    dir.resolve("tftp"), URL + "/boot.ipxe", lab.workDir());
            lab.awaitUdpListener(67, Duration.ofSeconds(10), dnsmasq);

            try (Qemu vm = Qemu.start(ns, Qemu.Spec.of(boot, nic, "52:54:00:77:00:21", LabNetwork.TAP,
                    lab.workDir().resolve("serial.log")))) {
                Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, Duration.ofSeconds(240));
                System.out.printf("DevHarnessIT %s %s: QEMU start -> marker %s%n", boot, nic, Qemu.seconds(took));
                String serial = vm.serial();
                assertThat(serial).contains("pivot: root image").contains("sha256 ok")
                        .doesNotContain("pivot: FAILED").doesNotContain("not writable");
                assertThat(took).isLessThan(Duration.ofSeconds(240));
            }
        }
    }
}
