package dev.pivot.image;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Debian's real kernel (unpacked by scripts/make-demo-image.sh into /var/cache/pivot/kernel) carries Debian's
 * Authenticode signature; the same bytes with the certificate table cut off are what an unsigned kernel looks like.
 */
class KernelSignatureTest {

    private static final Path CACHE = Path.of("/var/cache/pivot/kernel");

    @TempDir
    Path tmp;

    private static Path debianKernel() throws IOException {
        if (Files.isDirectory(CACHE)) {
            try (Stream<Path> files = Files.walk(CACHE, 3)) {
                // The x86-64 one (shim is x86-64's): the cache also holds the ARM64 test's arm64 kernel.
                var found = files.filter(f -> f.getFileName().toString().startsWith("vmlinuz-")
                        && !f.getFileName().toString().endsWith("-arm64")).findFirst();
                if (found.isPresent()) {
                    return found.get();
                }
            }
        }
        return Assertions.fail("no Debian kernel unpacked in " + CACHE
                + " (./test unpacks one: scripts/make-demo-image.sh --kernel-only)");
    }

    @Test
    void debiansKernelIsSignedUnderDebiansCaAndBootsThroughPivotsShim() throws IOException {
        KernelSignature sig = KernelSignature.read(debianKernel());
        assertThat(sig.pe()).isTrue();
        assertThat(sig.signers()).isNotEmpty();
        assertThat(sig.signers().getFirst().issuer()).isEqualTo("Debian Secure Boot CA");
        assertThat(sig.signers().getFirst().subject()).startsWith("Debian Secure Boot Signer");
        assertThat(sig.trustedByPivotsShim()).isTrue();
        assertThat(sig.verdict()).contains("boots under Secure Boot through Pivot's shim");
        assertThat(sig.advice()).isEmpty();
    }

    @Test
    void theSameKernelWithoutItsCertificateTableIsUnsignedAndTheAdviceSaysWhatToDo() throws IOException {
        byte[] k = Files.readAllBytes(debianKernel());
        ByteBuffer b = ByteBuffer.wrap(k).order(ByteOrder.LITTLE_ENDIAN);
        int pe = b.getInt(0x3c);
        int dirs = pe + 24 + (b.getShort(pe + 24) == 0x20b ? 112 : 96);
        int tableOffset = b.getInt(dirs + 32);
        b.putInt(dirs + 32, 0).putInt(dirs + 36, 0);
        Path unsigned = tmp.resolve("bzImage");
        Files.write(unsigned, java.util.Arrays.copyOf(k, tableOffset));
        KernelSignature sig = KernelSignature.read(unsigned);
        assertThat(sig.pe()).isTrue();
        assertThat(sig.signed()).isFalse();
        assertThat(sig.verdict()).startsWith("not signed");
        assertThat(sig.advice()).hasValueSatisfying(a -> assertThat(a).contains("mokutil --import").contains("sbsign"));
    }

    @Test
    void aFileThatIsNoPeImageIsSaidSo() throws IOException {
        Path junk = Files.write(tmp.resolve("junk"), new byte[]{'M', 'Z', 1, 2});
        assertThat(KernelSignature.read(junk).pe()).isFalse();
        Path garbage = Files.write(tmp.resolve("garbage"), new byte[4096]);
        assertThat(KernelSignature.read(garbage).verdict()).contains("not an EFI (PE/COFF) image");
    }
}
