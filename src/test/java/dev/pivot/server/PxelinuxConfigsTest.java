package dev.pivot.server;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;
import dev.pivot.tftp.TftpFiles;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** pxelinux.cfg/01-MAC over TFTP: the same boot as the iPXE script, by HTTP URL, for u-root's pxeboot. */
class PxelinuxConfigsTest {

    static final String BASE = "http://10.0.0.1:8080";
    static final String A = "a".repeat(64), B = "b".repeat(64), C = "c".repeat(64), D = "d".repeat(64);
    static final BootSpec SPEC = new BootSpec(new Artifact(A, 1, "bzImage"),
            List.of(new Artifact(B, 2, "initrd"), new Artifact(C, 3, "pivot.cpio.gz")), new Artifact(D, 4,
            "nix-store.squashfs"), "/nix/store/x-nixos-system/init", List.of("console=ttyS0"), "/pivot/init");

    private static Optional<String> fetch(TftpFiles files, String name) throws Exception {
        return switch (files.resolve(name, InetAddress.getLoopbackAddress())) {
            case TftpFiles.Found f -> {
                var reader = f.content().open();
                byte[] buf = new byte[(int) f.content().size()];
                int n = reader.read(buf, 0, buf.length);
                reader.close();
                yield Optional.of(new String(buf, 0, n, StandardCharsets.UTF_8));
            }
            case TftpFiles.Refused r -> Optional.empty();
        };
    }

    @Test
    void aMachinesConfigNamesKernelInitrdsAndTheContractCommandLine() throws Exception {
        TftpFiles files = new TftpFiles(List.of(), new PxelinuxConfigs(mac -> Optional.of(SPEC), BASE, List::of));
        String cfg = fetch(files, "pxelinux.cfg/01-52-54-00-AB-cd-01").orElseThrow();
        String q = "?mac=52:54:00:ab:cd:01";
        assertThat(cfg.lines()).contains("DEFAULT pivot", "LABEL pivot",
                "  KERNEL " + BASE + "/artifacts/" + A + "/bzImage" + q,
                "  INITRD " + BASE + "/artifacts/" + B + "/initrd" + q + "," + BASE + "/artifacts/" + C
                        + "/pivot.cpio.gz" + q);
        String append = cfg.lines().filter(l -> l.startsWith("  APPEND ")).findFirst().orElseThrow();
        assertThat(append).contains("rdinit=/pivot/init", "pivot.url=" + BASE, "pivot.mac=52:54:00:ab:cd:01",
                "pivot.sha256=" + D, "init=/nix/store/x-nixos-system/init", "console=ttyS0")
                .doesNotContain("initrd=");
    }

    @Test
    void stage1IsToldTheOtherLiveServersWhileKernelAndInitrdsComeFromThisOne() throws Exception {
        String other = "http://10.0.0.2:8080";
        TftpFiles files = new TftpFiles(List.of(), new PxelinuxConfigs(mac -> Optional.of(SPEC), BASE,
                () -> List.of(BASE, other)));
        String cfg = fetch(files, "pxelinux.cfg/01-52-54-00-ab-cd-01").orElseThrow();
        assertThat(cfg).contains("  KERNEL " + BASE + "/artifacts/").doesNotContain("KERNEL " + other);
        String append = cfg.lines().filter(l -> l.startsWith("  APPEND ")).findFirst().orElseThrow();
        assertThat(append).contains(" pivot.url=" + BASE + " pivot.fallback=" + other + " ");
        String alone = fetch(new TftpFiles(List.of(), new PxelinuxConfigs(mac -> Optional.of(SPEC), BASE,
                List::of)), "pxelinux.cfg/01-52-54-00-ab-cd-01").orElseThrow();
        assertThat(alone).doesNotContain("pivot.fallback");
    }

    @Test
    void otherNamesAndMachinesWithoutAnImageAreNotFound() throws Exception {
        TftpFiles files = new TftpFiles(List.of(), new PxelinuxConfigs(mac -> Optional.empty(), BASE, List::of));
        assertThat(fetch(files, "pxelinux.cfg/01-52-54-00-ab-cd-01")).isEmpty();
        TftpFiles all = new TftpFiles(List.of(), new PxelinuxConfigs(mac -> Optional.of(SPEC), BASE, List::of));
        assertThat(fetch(all, "pxelinux.cfg/default")).isEmpty();
        assertThat(fetch(all, "pxelinux.cfg/C0A80001")).isEmpty();
        assertThat(dev.pivot.loaders.PxelinuxConfig.render(SPEC, BASE, MacAddress.parse("525400abcd01"))).startsWith("# Pivot: ");
    }

    @Test
    void aConfigWithoutAnyServerIsRefusedByName() {
        assertThatThrownBy(() -> dev.pivot.loaders.PxelinuxConfig.render(SPEC, List.of(),
                MacAddress.parse("525400abcd01")))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("a PXELINUX config needs at least one server URL");
    }
}
