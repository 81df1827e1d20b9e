package dev.pivot.lab;

import dev.pivot.testsupport.Require;
import dev.pivot.demo.Commands;
import dev.pivot.demo.Dnsmasq;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.NetNamespace;
import dev.pivot.demo.Qemu;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

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
        Require.vmLab();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"BIOS_IPXE_ROM, VIRTIO", "UEFI_IPXE_ROM, VIRTIO", "UEFI_OWN_PXE, VIRTIO", "BIOS_IPXE_ROM, E1000"})
    void bootsToStage2WithDebianPeers(Qemu.Boot boot, Qemu.Nic nic, @TempDir Path dir) {
        prepare(dir, Map.of());
        String serial = bootWithPeers(dir, boot, nic, vm -> {
            Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, Duration.ofSeconds(240));
            System.out.printf("DevHarnessIT %s %s: QEMU start -> marker %s%n", boot, nic, Qemu.seconds(took));
            assertThat(took).isLessThan(Duration.ofSeconds(240));
        });
        assertThat(serial).contains("pivot: root image").contains("sha256 ok")
                .doesNotContain("pivot: FAILED").doesNotContain("not writable");
    }

    /** NixOS ships its modules as .ko.xz: the prelude's insmod path must load those too. */
    @Test
    void xzCompressedModulesAsNixosShipsThem(@TempDir Path dir) {
        prepare(dir, Map.of("PIVOT_XZ_MODULES", "1"));
        String serial = bootWithPeers(dir, Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO, vm -> {
            Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, Duration.ofSeconds(240));
            System.out.printf("DevHarnessIT .ko.xz modules: QEMU start -> marker %s%n", Qemu.seconds(took));
        });
        assertThat(serial).contains("modules: virtio_pci virtio_net").doesNotContain("pivot: FAILED");
    }

    @Test
    void aMissingNicDriverFailsAtNetworkWithOneLine(@TempDir Path dir) {
        prepare(dir, Map.of("PIVOT_NO_NIC_DRIVER", "1"));
        String serial = bootWithPeers(dir, Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO,
                vm -> vm.awaitMarker("pivot: FAILED at", Duration.ofSeconds(240)));
        assertThat(serial.lines().filter(l -> l.contains("pivot: FAILED at")).toList())
                .singleElement().asString().startsWith("pivot: FAILED at network: no network interface appeared");
        assertThat(serial).doesNotContain(Qemu.DEFAULT_MARKER);
    }

    @Test
    void aWrongSha256FailsAtRootFetched(@TempDir Path dir) throws IOException {
        prepare(dir, Map.of());
        Path script = dir.resolve("http/boot.ipxe");
        Files.writeString(script, Files.readString(script).replaceAll("pivot\\.sha256=[0-9a-f]{64}",
                "pivot.sha256=" + "0".repeat(64)));
        String serial = bootWithPeers(dir, Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO,
                vm -> vm.awaitMarker("pivot: FAILED at", Duration.ofSeconds(240)));
        assertThat(serial.lines().filter(l -> l.contains("pivot: FAILED at")).toList())
                .singleElement().asString().startsWith("pivot: FAILED at root_fetched: sha256 mismatch");
    }

    private static void prepare(Path dir, Map<String, String> env) {
        Path root = Require.pivotRoot();
        List<String> cmd = new ArrayList<>(List.of("env"));
        env.forEach((k, v) -> cmd.add(k + "=" + v));
        cmd.addAll(List.of("bash", root.resolve("scripts/dev-netboot-harness.sh").toString(), "prepare",
                dir.toString(), URL));
        Commands.run(cmd);
    }

    /** Serves DIR/http and DIR/tftp with busybox httpd + dnsmasq-base, boots a VM, returns its serial log. */
    private static String bootWithPeers(Path dir, Qemu.Boot boot, Qemu.Nic nic, Consumer<Qemu> await) {
        try (LabNetwork lab = LabNetwork.create("harn")) {
            // A hand-built netboot ends iPXE's IPv6 wait with a peer's router advertisement (pitfall 1).
            lab.addPeerIpv6Router();
            NetNamespace ns = lab.namespace();
            ns.start(List.of("busybox", "httpd", "-f", "-p", LabNetwork.SERVER_ADDRESS + ":8080",
                    "-h", dir.resolve("http").toString()), lab.workDir().resolve("httpd.out"));
            Process dnsmasq = Dnsmasq.pxe(ns, LabNetwork.BRIDGE, LabNetwork.RANGE_START, LabNetwork.RANGE_END,
                    dir.resolve("tftp"), URL + "/boot.ipxe", lab.workDir());
            lab.awaitUdpListener(67, Duration.ofSeconds(10), dnsmasq);
            try (Qemu vm = Qemu.start(ns, Qemu.Spec.of(boot, nic, "52:54:00:77:00:21", LabNetwork.TAP,
                    lab.workDir().resolve("serial.log")))) {
                await.accept(vm);
                return vm.serial();
            }
        }
    }
}
