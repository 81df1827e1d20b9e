package dev.pivot.image;

import dev.pivot.stage1.CpuArch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

class KernelArchTest {

    @TempDir
    Path tmp;

    private static byte[] x86SetupHeader() {
        byte[] head = new byte[0x300];
        head[0] = 'M';
        head[1] = 'Z';
        System.arraycopy("HdrS".getBytes(), 0, head, 0x202, 4);
        return head;
    }

    /** The arm64 Image header (booting.rst): "ARM\x64" at 0x38, with the EFI stub's "MZ" in front. */
    private static byte[] arm64Image() {
        byte[] head = new byte[0x200];
        head[0] = 'M';
        head[1] = 'Z';
        head[0x38] = 'A';
        head[0x39] = 'R';
        head[0x3a] = 'M';
        head[0x3b] = 0x64;
        return head;
    }

    private static byte[] pe(int machine) {
        ByteBuffer b = ByteBuffer.allocate(0x200).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0, (byte) 'M').put(1, (byte) 'Z').putInt(0x3c, 0x80);
        b.put(0x80, (byte) 'P').put(0x81, (byte) 'E').putShort(0x84, (short) machine);
        return b.array();
    }

    @Test
    void readsTheArchitectureFromEachKindOfHeader() {
        assertThat(KernelArch.of(x86SetupHeader())).contains(CpuArch.X86_64);
        assertThat(KernelArch.of(arm64Image())).contains(CpuArch.ARM64);
        assertThat(KernelArch.of(pe(0xaa64))).as("an arm64 zboot / EFI-stub PE").contains(CpuArch.ARM64);
        assertThat(KernelArch.of(pe(0x8664))).contains(CpuArch.X86_64);
        assertThat(KernelArch.of(pe(0x01c2))).as("a PE for 32-bit ARM").isEmpty();
        assertThat(KernelArch.of(new byte[]{0x1f, (byte) 0x8b, 8})).isEmpty();
        assertThat(KernelArch.of("070701 an initrd".getBytes())).isEmpty();
    }

    @Test
    void readsAGzipCompressedImageThroughItsFirstBytes() throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(arm64Image());
        }
        Path file = Files.write(tmp.resolve("vmlinuz"), gz.toByteArray());
        assertThat(KernelArch.of(file)).contains(CpuArch.ARM64);
        Path broken = Files.write(tmp.resolve("broken"), new byte[]{0x1f, (byte) 0x8b, 1, 2, 3});
        assertThat(KernelArch.of(broken)).isEmpty();
    }

    @Test
    void debiansKernelsAreReadAsTheirArchitecture() throws Exception {
        // The kernels ./test caches in /var/cache/pivot (make-demo-image.sh), when there: real headers, not ours.
        try (var dirs = Files.newDirectoryStream(Path.of("/var/cache/pivot/kernel"), "linux-image-*")) {
            int seen = 0;
            for (Path dir : dirs) {
                try (var boot = Files.newDirectoryStream(dir.resolve("boot"), "vmlinuz-*")) {
                    for (Path kernel : boot) {
                        String name = kernel.getFileName().toString();
                        assertThat(KernelArch.of(kernel)).as(name)
                                .contains(name.endsWith("-arm64") ? CpuArch.ARM64 : CpuArch.X86_64);
                        seen++;
                    }
                }
            }
            assertThat(seen).as("Debian kernels unpacked by scripts/make-demo-image.sh").isPositive();
        }
    }
}
