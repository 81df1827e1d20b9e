package dev.pivot.loaders;

import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static dev.pivot.loaders.IpxeScriptTest.BASE;
import static dev.pivot.loaders.IpxeScriptTest.MAC;
import static dev.pivot.loaders.IpxeScriptTest.sha;
import static dev.pivot.loaders.IpxeScriptTest.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GrubConfigTest {

    @Test
    void loadsTheSameKernelInitrdsAndCommandLineAsTheIpxeScriptOverGrubsHttpModule() {
        BootSpec spec = spec(List.of("console=ttyS0,115200"));
        String cfg = GrubConfig.overHttp(spec, BASE, MAC, Optional.of("tok"));
        String q = "?mac=52:54:00:12:34:56&token=tok";
        assertThat(cfg).contains("if linux '(http,10.77.0.1:8080)/artifacts/" + sha('a') + "/bzImage" + q + "'"
                + " 'rdinit=/pivot/init' 'pivot.url=" + BASE + "' 'pivot.mac=52:54:00:12:34:56' 'pivot.token=tok'"
                + " 'pivot.root=" + BASE + "/artifacts/" + sha('d') + "/nix-store.squashfs'");
        assertThat(cfg).contains("'console=ttyS0,115200'; then true;\nelse\n");
        assertThat(cfg).contains("if initrd '(http,10.77.0.1:8080)/artifacts/" + sha('b') + "/initrd" + q + "' "
                + "'(http,10.77.0.1:8080)/artifacts/" + sha('c') + "/pivot.cpio.gz" + q + "'; then");
        // The words after the kernel are the iPXE script's, minus what only iPXE needs (initrd= for the EFI stub,
        // iPXE's own lease in ${} variables).
        List<String> ipxe = IpxeScript.kernelCommandLine(spec, BASE, MAC, Optional.of("tok")).stream()
                .filter(a -> !a.startsWith("initrd=") && !a.contains("${")).toList();
        assertThat(ipxe).isEqualTo(KernelCommandLine.of(spec, BASE, MAC, Optional.of("tok")));
        for (String arg : ipxe) {
            assertThat(cfg).contains(" '" + arg + "'");
        }
        assertThat(cfg).doesNotContain("initrd=").doesNotContain("${ip}").endsWith(
                "configfile '(http,10.77.0.1:8080)/grub/machine/52:54:00:12:34:56.cfg'\n");
        assertThat(cfg).contains("echo 'Pivot: booting'\nboot\n");
    }

    @Test
    void bootstrapHandsOverToTheMachinesOwnConfigByMac() {
        assertThat(GrubConfig.bootstrap())
                .contains("configfile \"${prefix}/machine/${net_default_mac}.cfg\"\n");
        assertThat(GrubConfig.machine("/grub/machine/52:54:00:12:34:56.cfg")).contains(MAC);
        assertThat(GrubConfig.machine("/grub/machine/52-54-00-12-34-56.cfg")).contains(MAC);
        assertThat(GrubConfig.machine("/grub/machine/../x.cfg")).isEmpty();
        assertThat(GrubConfig.machine("/grub/machine/52:54:00:12:34:56.cfgx")).isEmpty();
    }

    @Test
    void overTftpNamesTheArtifactsOnTheTftpServerWithoutQueryAndKeepsTheHttpCommandLine() {
        BootSpec spec = spec(List.of());
        String cfg = GrubConfig.overTftp(spec, BASE, "10.77.0.1", MAC, Optional.of("tok"));
        assertThat(cfg).contains("if linux '(tftp,10.77.0.1)/artifacts/" + sha('a') + "/bzImage' 'rdinit=/pivot/init'"
                + " 'pivot.url=" + BASE + "'");
        assertThat(cfg).contains("if initrd '(tftp,10.77.0.1)/artifacts/" + sha('b') + "/initrd' "
                + "'(tftp,10.77.0.1)/artifacts/" + sha('c') + "/pivot.cpio.gz'; then");
        assertThat(cfg).contains("'pivot.token=tok'").doesNotContain("?mac=");
        assertThatThrownBy(() -> GrubConfig.overTftp(spec, BASE, "x;y", MAC, Optional.empty()))
                .hasMessageContaining("IP address");
    }

    @Test
    void withSeveralServersGrubTriesEachInTurnAndStageOneIsToldTheOthers() {
        BootSpec spec = spec(List.of());
        String other = "http://10.77.0.2:8080";
        String cfg = GrubConfig.overTftp(spec, List.of(BASE, other), List.of("10.77.0.1", "10.77.0.2"), MAC,
                Optional.of("tok"));
        String args = " 'rdinit=/pivot/init' 'pivot.url=" + BASE + "'";
        assertThat(cfg).contains("if linux '(tftp,10.77.0.1)/artifacts/" + sha('a') + "/bzImage'" + args)
                .contains("elif linux '(tftp,10.77.0.2)/artifacts/" + sha('a') + "/bzImage'" + args)
                .contains("'pivot.fallback=" + other + "'")
                .contains("elif initrd '(tftp,10.77.0.2)/artifacts/" + sha('b') + "/initrd' "
                        + "'(tftp,10.77.0.2)/artifacts/" + sha('c') + "/pivot.cpio.gz'; then true;\nelse\n")
                .contains("FAILED to load kernel bzImage from (tftp,10.77.0.1)/artifacts/" + sha('a')
                        + "/bzImage and 1 other source");
        assertThat(cfg.indexOf("if linux")).isLessThan(cfg.indexOf("elif linux"));
        String overHttp = GrubConfig.overHttp(spec, List.of(BASE, other), MAC, Optional.of("tok"));
        assertThat(overHttp).contains("elif linux '(http,10.77.0.2:8080)/artifacts/" + sha('a') + "/bzImage?mac=");
        assertThatThrownBy(() -> GrubConfig.overTftp(spec, List.of(BASE, other), List.of("10.77.0.1"), MAC,
                Optional.empty())).hasMessageContaining("one TFTP address per server");
    }

    @Test
    void quotesEveryWordSoGrubNeitherExpandsNorGlobsIt() {
        assertThat(GrubConfig.quote("a?b${x};c")).isEqualTo("'a?b${x};c'");
        assertThat(GrubConfig.quote("it's")).isEqualTo("'it'\\''s'");
        assertThatThrownBy(() -> GrubConfig.quote("a\nb")).hasMessageContaining("control character");
    }

    @Test
    void refusesBaseUrlsGrubCannotReach() {
        assertThatThrownBy(() -> GrubConfig.overHttp(spec(List.of()), "https://pivot.example", MAC, Optional.empty()))
                .hasMessageContaining("plain http:// only");
        assertThatThrownBy(() -> GrubConfig.overHttp(spec(List.of()), "http://pivot.example/boot", MAC,
                Optional.empty())).hasMessageContaining("without a path");
        assertThat(GrubConfig.noImage(MacAddress.parse("52:54:00:00:00:01")))
                .contains("'Pivot: no image assigned to MAC 52:54:00:00:00:01'");
    }
}
