package dev.pivot.image;

import dev.pivot.stage1.CpuArch;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * Which processor a kernel file is for, from its own headers (Documentation/arch/x86/boot.rst,
 * Documentation/arch/arm64/booting.rst, the PE/COFF header of EFI-stub and zboot kernels): the x86 setup header
 * "HdrS" at 0x202, the arm64 Image magic "ARM\x64" at 0x38, else the PE header's machine field. A gzip-compressed
 * arm64 Image (older Debian vmlinuz) is read through its first bytes uncompressed.
 */
public final class KernelArch {

    private static final int X86_HEADER = 0x202;
    private static final int ARM64_MAGIC = 0x38;
    private static final int PE_OFFSET = 0x3c;
    private static final int MACHINE_X86_64 = 0x8664;
    private static final int MACHINE_ARM64 = 0xaa64;
    private static final int HEAD = 4096;

    private KernelArch() {
    }

    /** The kernel's processor; empty when its headers name none Pivot knows. */
    public static Optional<CpuArch> of(Path kernel) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(kernel)) {
            head = in.readNBytes(HEAD);
        }
        if (head.length > 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(kernel))) {
                head = in.readNBytes(HEAD);
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        return of(head);
    }

    static Optional<CpuArch> of(byte[] head) {
        if (ascii(head, X86_HEADER, "HdrS")) {
            return Optional.of(CpuArch.X86_64);
        }
        if (ascii(head, ARM64_MAGIC, "ARM") && head.length > ARM64_MAGIC + 3 && head[ARM64_MAGIC + 3] == 0x64) {
            return Optional.of(CpuArch.ARM64);
        }
        if (!ascii(head, 0, "MZ") || head.length < PE_OFFSET + 4) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN);
        int pe = b.getInt(PE_OFFSET);
        if (pe < 0 || pe + 6 > head.length || !ascii(head, pe, "PE\0\0")) {
            return Optional.empty();
        }
        return switch (b.getShort(pe + 4) & 0xffff) {
            case MACHINE_X86_64 -> Optional.of(CpuArch.X86_64);
            case MACHINE_ARM64 -> Optional.of(CpuArch.ARM64);
            default -> Optional.empty();
        };
    }

    private static boolean ascii(byte[] head, int at, String text) {
        if (head.length < at + text.length()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (head[at + i] != text.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
