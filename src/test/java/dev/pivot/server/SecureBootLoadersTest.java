package dev.pivot.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Which shim and which GRUB are served, from package trees laid out as dpkg-deb -x unpacks them. */
class SecureBootLoadersTest {

    private static final String SHIM_PATH = "usr/lib/shim/shimx64.efi.signed";
    private static final String GRUB_PATH = "usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed";

    /** A PE-like file whose .sbat section holds the lines of Debian's GRUB of this upstream version. */
    static void grub(Path root, String version) throws IOException {
        grub(root, version, false);
    }

    /**
     * The same, with GRUB's http module built in when {@code http}: the source file name its debug messages carry,
     * as in Debian 13's signed network GRUB.
     */
    static void grub(Path root, String version, boolean http) throws IOException {
        byte[] head = new byte[512];
        head[0] = 'M';
        head[1] = 'Z';
        String sbat = "sbat,1,SBAT Version,sbat,1,https://github.com/rhboot/shim/blob/main/SBAT.md\n"
                + "grub,5,Free Software Foundation,grub," + version + ",https://www.gnu.org/software/grub/\n"
                + "grub.debian,5,Debian,grub2," + version + "-9,https://tracker.debian.org/pkg/grub2\n";
        byte[] module = (http ? "\0net/http.c\0invalid HTTP header - LF without CR\0" : "\0net/tftp.c\0")
                .getBytes(StandardCharsets.US_ASCII);
        write(root.resolve(GRUB_PATH), head, module, sbat.getBytes(StandardCharsets.US_ASCII));
    }

    /** Where shim-signed puts its file, under {@code root}. */
    static void shim(Path root) throws IOException {
        write(root.resolve(SHIM_PATH), "shim".getBytes(StandardCharsets.US_ASCII));
    }

    private static void write(Path file, byte[]... parts) throws IOException {
        Files.createDirectories(file.getParent());
        try (var out = Files.newOutputStream(file)) {
            for (byte[] part : parts) {
                out.write(part);
            }
        }
    }

    @Test
    void theNewestGrubIsServedWhereverItIsFound(@TempDir Path tmp) throws IOException {
        Path bookworm = tmp.resolve("root");
        Path trixie = tmp.resolve("trixie");
        shim(bookworm);
        grub(bookworm, "2.06");
        grub(trixie, "2.12");

        var found = SecureBootLoaders.find(List.of(tmp.resolve("none"), bookworm, trixie), tmp.resolve("served"));

        assertThat(found).isInstanceOfSatisfying(SecureBootLoaders.Found.Chain.class, chain -> {
            assertThat(chain.grub()).isEqualTo(trixie.resolve(GRUB_PATH));
            assertThat(chain.grubVersion()).contains(new SecureBootLoaders.GrubVersion(2, 12));
            assertThat(chain.readsProxyDhcp()).isTrue();
        });
        assertThat(tmp.resolve("served/grubx64.efi")).isSymbolicLink();
        assertThat(Files.readSymbolicLink(tmp.resolve("served/grubx64.efi"))).isEqualTo(trixie.resolve(GRUB_PATH));
        assertThat(Files.readSymbolicLink(tmp.resolve("served/shimx64.efi"))).isEqualTo(bookworm.resolve(SHIM_PATH));
    }

    @Test
    void grub206AloneDoesNotReadProxyDhcp(@TempDir Path tmp) throws IOException {
        Path root = tmp.resolve("root");
        shim(root);
        grub(root, "2.06");

        var found = SecureBootLoaders.find(List.of(root), tmp.resolve("served"));

        assertThat(found).isInstanceOfSatisfying(SecureBootLoaders.Found.Chain.class, chain -> {
            assertThat(chain.grubVersion()).map(String::valueOf).contains("2.06");
            assertThat(chain.readsProxyDhcp()).isFalse();
        });
    }

    @Test
    void aGrubWithoutSbatRanksBelowOneWithAndReadsNoProxyDhcp(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        shim(a);
        write(a.resolve(GRUB_PATH), "not a grub".getBytes(StandardCharsets.US_ASCII));

        var alone = SecureBootLoaders.find(List.of(a), tmp.resolve("served"));
        assertThat(alone).isInstanceOfSatisfying(SecureBootLoaders.Found.Chain.class, chain -> {
            assertThat(chain.grubVersion()).isEmpty();
            assertThat(chain.readsProxyDhcp()).isFalse();
        });

        grub(b, "2.12");
        var both = SecureBootLoaders.find(List.of(a, b), tmp.resolve("served"));
        assertThat(both).isInstanceOfSatisfying(SecureBootLoaders.Found.Chain.class,
                chain -> assertThat(chain.grub()).isEqualTo(b.resolve(GRUB_PATH)));
    }

    @Test
    void grub212WithTheHttpModuleLoadsOverHttp(@TempDir Path tmp) throws IOException {
        Path root = tmp.resolve("root");
        shim(root);
        grub(root, "2.12", true);

        var found = SecureBootLoaders.find(List.of(root), tmp.resolve("served"));

        assertThat(found).isInstanceOfSatisfying(SecureBootLoaders.Found.Chain.class, chain -> {
            assertThat(chain.httpModule()).isTrue();
            assertThat(chain.loadsOverHttp()).isTrue();
        });
    }

    @Test
    void withoutTheHttpModuleOrBefore212ItLoadsOverTftp(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("a");
        shim(a);
        grub(a, "2.12", false);
        assertThat(SecureBootLoaders.find(List.of(a), tmp.resolve("served-a")))
                .isInstanceOfSatisfying(SecureBootLoaders.Found.Chain.class, chain -> {
                    assertThat(chain.httpModule()).isFalse();
                    assertThat(chain.readsProxyDhcp()).isTrue();
                    assertThat(chain.loadsOverHttp()).isFalse();
                });

        Path b = tmp.resolve("b");
        shim(b);
        grub(b, "2.06", true);
        assertThat(SecureBootLoaders.find(List.of(b), tmp.resolve("served-b")))
                .isInstanceOfSatisfying(SecureBootLoaders.Found.Chain.class, chain -> {
                    assertThat(chain.httpModule()).isTrue();
                    assertThat(chain.loadsOverHttp()).as("2.06's http module is not the one proven here").isFalse();
                });

        Path c = tmp.resolve("c");
        shim(c);
        Files.createDirectories(c.resolve(GRUB_PATH).getParent());
        Files.writeString(c.resolve(GRUB_PATH), "no SBAT, but net/http.c");
        assertThat(SecureBootLoaders.find(List.of(c), tmp.resolve("served-c")))
                .isInstanceOfSatisfying(SecureBootLoaders.Found.Chain.class,
                        chain -> assertThat(chain.loadsOverHttp()).as("no version known").isFalse());
    }

    @Test
    void versionsCompareNumerically() {
        var v2_6 = new SecureBootLoaders.GrubVersion(2, 6);
        var v2_12 = new SecureBootLoaders.GrubVersion(2, 12);
        assertThat(v2_12).isGreaterThan(v2_6);
        assertThat(v2_12.readsProxyDhcp()).isTrue();
        assertThat(new SecureBootLoaders.GrubVersion(3, 0).readsProxyDhcp()).isTrue();
        assertThat(v2_6.readsProxyDhcp()).isFalse();
    }

    @Test
    void aMissingGrubIsOneLineNamingItsPackage(@TempDir Path tmp) throws IOException {
        Path root = tmp.resolve("root");
        shim(root);

        var found = SecureBootLoaders.find(List.of(root), tmp.resolve("served"));

        assertThat(found).isInstanceOfSatisfying(SecureBootLoaders.Found.Missing.class, missing ->
                assertThat(missing.missing()).singleElement().asString()
                        .contains("grubx64.efi missing").contains("grub-efi-amd64-signed"));
        assertThat(Optional.of(tmp.resolve("served")).filter(Files::exists)).isEmpty();
    }
}
