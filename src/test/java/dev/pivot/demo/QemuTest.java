package dev.pivot.demo;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QemuTest {
    private static final Path LOG = Path.of("/tmp/serial.log");

    @Test
    void biosUsesTheNicsIpxeRomAndNoOvmf() {
        List<String> cmd = Qemu.command(Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO, "52:54:00:00:00:01",
                "tap0", LOG), Accel.TCG);
        assertThat(String.join(" ", cmd))
                .contains("-accel tcg", "-m 768", "-nographic", "-serial file:/tmp/serial.log", "-monitor none",
                        "-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01 ",
                        "ifname=tap0,script=no,downscript=no")
                .doesNotContain("OVMF").doesNotContain("romfile");
    }

    @Test
    void uefiOwnPxeDisablesTheNicRom() {
        List<String> cmd = Qemu.command(Qemu.Spec.of(Qemu.Boot.UEFI_OWN_PXE, Qemu.Nic.E1000, "52:54:00:00:00:02",
                "tap0", LOG), Accel.TCG);
        assertThat(cmd).contains("e1000,netdev=n0,mac=52:54:00:00:00:02,romfile=", "-bios", "/usr/share/ovmf/OVMF.fd");
    }

    @Test
    void arm64IsAnEmulatedVirtMachineWithAavmfEvenWhereKvmIs() {
        List<String> cmd = Qemu.command(Qemu.Spec.of(Qemu.Boot.ARM64_UEFI, Qemu.Nic.VIRTIO, "52:54:00:00:00:03",
                "tap0", LOG), Accel.KVM);
        assertThat(cmd.getFirst()).isEqualTo("qemu-system-aarch64");
        assertThat(String.join(" ", cmd)).contains("-M virt -cpu cortex-a57 -accel tcg",
                        "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:03,romfile=",
                        "-bios /usr/share/qemu-efi-aarch64/QEMU_EFI.fd")
                .doesNotContain("kvm").doesNotContain("IPv4PXESupport");
        List<String> http = Qemu.command(Qemu.Spec.of(Qemu.Boot.ARM64_UEFI_HTTP_BOOT, Qemu.Nic.VIRTIO,
                "52:54:00:00:00:03", "tap0", LOG), Accel.TCG);
        assertThat(http).contains("name=opt/org.tianocore/IPv4PXESupport,string=n",
                "name=opt/org.tianocore/IPv6PXESupport,string=n");
    }

    @Test
    void rejectsAMalformedMac() {
        assertThatThrownBy(() -> Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO, "52-54-00", "tap0", LOG))
                .hasMessageContaining("52-54-00");
    }
}
