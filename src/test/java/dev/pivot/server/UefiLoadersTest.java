package dev.pivot.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** What UEFI x86-64 PXE clients are handed, by DHCP mode and by which Debian GRUB is there. */
class UefiLoadersTest {

    private record Chosen(UefiLoaders loaders, List<String> lines) {
    }

    /** @param grubVersions one GRUB tree each, "2.12+http" for one with the http module built in */
    private static Chosen choose(Path tmp, ServerConfig.DhcpMode mode, List<String> grubVersions) throws IOException {
        List<Path> roots = new java.util.ArrayList<>();
        Path first = tmp.resolve("root");
        SecureBootLoadersTest.shim(first);
        roots.add(first);
        for (int i = 0; i < grubVersions.size(); i++) {
            Path root = tmp.resolve("tree" + i);
            String version = grubVersions.get(i);
            SecureBootLoadersTest.grub(root, version.replace("+http", ""), version.endsWith("+http"));
            roots.add(root);
        }
        ServerConfig config = ServerConfig.builder(tmp.resolve("image"), new ServerConfig.Where.Listen("127.0.0.1"))
                .dhcp(mode, Optional.empty()).state(tmp.resolve("state")).build();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        UefiLoaders loaders;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            loaders = UefiLoaders.choose(config, List.of(), out, roots);
        }
        return new Chosen(loaders, bytes.toString(StandardCharsets.UTF_8).lines().toList());
    }

    @Test
    void underProxyDhcpGrub212GetsShimThenGrub(@TempDir Path tmp) throws IOException {
        Chosen chosen = choose(tmp, ServerConfig.DhcpMode.PROXY, List.of("2.06", "2.12"));
        assertThat(chosen.loaders().pxe()).isEqualTo("shimx64.efi");
        assertThat(chosen.loaders().grub()).contains("shimx64.efi");
        assertThat(chosen.lines()).singleElement().asString().startsWith("pivot: UEFI PXE clients get shim -> GRUB 2.12");
    }

    @Test
    void underProxyDhcpGrub206AloneGivesIpxeAndSaysWhichPackageFromWhichSuite(@TempDir Path tmp) throws IOException {
        Chosen chosen = choose(tmp, ServerConfig.DhcpMode.PROXY, List.of("2.06"));
        assertThat(chosen.loaders().pxe()).isEqualTo("ipxe.efi");
        assertThat(chosen.loaders().grub()).isEmpty();
        assertThat(chosen.lines()).anyMatch(l -> l.startsWith("pivot: GRUB 2.06 (") && l.contains("cannot find Pivot"
                + " under --dhcp proxy") && l.contains("grub-efi-amd64-signed from Debian 13 trixie"));
        assertThat(chosen.lines()).anyMatch(l -> l.startsWith("pivot: WARNING: UEFI PXE clients get ipxe.efi under"
                + " --dhcp proxy") && l.contains("Secure Boot on will not boot"));
    }

    @Test
    void underFullDhcpGrub206IsEnough(@TempDir Path tmp) throws IOException {
        Chosen chosen = choose(tmp, ServerConfig.DhcpMode.FULL, List.of("2.06"));
        assertThat(chosen.loaders().pxe()).isEqualTo("shimx64.efi");
        assertThat(chosen.lines()).singleElement().asString().startsWith("pivot: UEFI PXE clients get shim -> GRUB 2.06");
    }

    @Test
    void grub212WithItsHttpModuleLoadsKernelAndInitrdsOverHttp(@TempDir Path tmp) throws IOException {
        Chosen chosen = choose(tmp, ServerConfig.DhcpMode.PROXY, List.of("2.06", "2.12+http"));
        assertThat(chosen.loaders().pxe()).isEqualTo("shimx64.efi");
        assertThat(chosen.loaders().grubOverHttp()).isTrue();
        assertThat(chosen.lines()).singleElement().asString().startsWith("pivot: UEFI PXE clients get shim -> GRUB 2.12")
                .contains("kernel and initrds over HTTP");
    }

    @Test
    void httpBootGetsShimByUrlOnlyWhenItsGrubHasTheHttpModule(@TempDir Path tmp) throws IOException {
        for (ServerConfig.DhcpMode mode : List.of(ServerConfig.DhcpMode.FULL, ServerConfig.DhcpMode.PROXY)) {
            Chosen chosen = choose(tmp.resolve(mode.name() + "-http"), mode, List.of("2.06", "2.12+http"));
            assertThat(chosen.loaders().httpGrub()).as(mode.name()).contains("shimx64.efi");
            assertThat(chosen.loaders().httpBoot()).as("the iPXE build, for profiles choosing it").isEqualTo("ipxe.efi");
            assertThat(chosen.lines()).singleElement().asString().contains("UEFI HTTP Boot clients get the same by URL");
        }
        Chosen tftpOnly = choose(tmp.resolve("tftp"), ServerConfig.DhcpMode.FULL, List.of("2.12"));
        assertThat(tftpOnly.loaders().httpGrub()).as("a GRUB without the http module").isEmpty();
        assertThat(tftpOnly.lines()).singleElement().asString().contains("UEFI HTTP Boot clients get ipxe.efi by URL");
    }

    @Test
    void grub206LoadsThemOverTftpAndSaysWhy(@TempDir Path tmp) throws IOException {
        Chosen chosen = choose(tmp, ServerConfig.DhcpMode.FULL, List.of("2.06"));
        assertThat(chosen.loaders().grubOverHttp()).isFalse();
        assertThat(chosen.lines()).singleElement().asString()
                .contains("kernel and initrds over TFTP, this GRUB has no http module");
    }

    @Test
    void withoutGrubEveryModeGetsIpxeAndTheMissingPackageIsNamed(@TempDir Path tmp) throws IOException {
        Chosen chosen = choose(tmp, ServerConfig.DhcpMode.PROXY, List.of());
        assertThat(chosen.loaders().pxe()).isEqualTo("ipxe.efi");
        assertThat(chosen.lines()).anyMatch(l -> l.contains("grubx64.efi missing") && l.contains("grub-efi-amd64-signed"));
    }
}
