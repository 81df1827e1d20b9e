package dev.pivot.lab;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Why a VM test can't run here, said in the skip message. */
public final class LabAssumptions {
    private LabAssumptions() {}

    public static Path pivotRoot() {
        String root = System.getProperty("pivot.root");
        return root == null ? Path.of("").toAbsolutePath() : Path.of(root);
    }

    /** VM tests: enabled (pivot.e2e != false), root, QEMU, OVMF, iPXE ROMs, dnsmasq, busybox present. */
    public static void assumeVmLab() {
        Assumptions.assumeFalse("false".equals(System.getProperty("pivot.e2e")),
                "VM end-to-end tests disabled by -Dpivot.e2e=false");
        Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
                "needs root for network namespaces and tap devices");
        for (String tool : new String[] {"/usr/bin/qemu-system-x86_64", "/usr/share/ovmf/OVMF.fd",
                "/usr/lib/ipxe/qemu/efi-virtio.rom", "/usr/lib/ipxe/ipxe.efi", "/usr/sbin/dnsmasq", "/bin/busybox",
                "/usr/bin/mksquashfs", "/usr/bin/cpio"}) {
            Assumptions.assumeTrue(Files.exists(Path.of(tool)),
                    tool + " is missing (install the packages in scripts/common.sh PIVOT_BOOT_PACKAGES)");
        }
    }
}
