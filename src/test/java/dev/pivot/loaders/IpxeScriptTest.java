package dev.pivot.loaders;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IpxeScriptTest {

    static final String BASE = "http://10.77.0.1:8080";
    static final MacAddress MAC = MacAddress.parse("52:54:00:12:34:56");

    static String sha(char c) {
        return String.valueOf(c).repeat(64);
    }

    static BootSpec spec(List<String> kernelArgs) {
        return new BootSpec(
                new Artifact(sha('a'), 100, "bzImage"),
                List.of(new Artifact(sha('b'), 200, "initrd"), new Artifact(sha('c'), 300, "pivot.cpio.gz")),
                new Artifact(sha('d'), 400, "nix-store.squashfs"),
                "/nix/store/xyz-nixos-system-test/init",
                kernelArgs,
                "/pivot/init");
    }

    @Test
    void commandLineFollowsTheContractOrder() {
        assertThat(IpxeScript.kernelCommandLine(spec(List.of("console=ttyS0,115200", "loglevel=4")), BASE, MAC))
                .containsExactly(
                        "initrd=initrd",
                        "initrd=pivot.cpio.gz",
                        "rdinit=/pivot/init",
                        "pivot.url=" + BASE,
                        "pivot.mac=52:54:00:12:34:56",
                        "pivot.root=" + BASE + "/artifacts/" + sha('d') + "/nix-store.squashfs",
                        "pivot.sha256=" + sha('d'),
                        "pivot.size=400",
                        "init=/nix/store/xyz-nixos-system-test/init",
                        "console=ttyS0,115200",
                        "loglevel=4",
                        "pivot.ip=${ip}",
                        "pivot.netmask=${netmask}",
                        "pivot.gateway=${gateway}",
                        "pivot.dns=${dns}");
    }

    @Test
    void onlyPivotsPreludeIsHandedIpxesLease() {
        BootSpec prelude = spec(List.of());
        BootSpec own = new BootSpec(prelude.kernel(), prelude.initrds(), prelude.rootBoot().orElseThrow().rootImage(),
                prelude.rootBoot().orElseThrow().init(),
                List.of(), "/init");
        assertThat(IpxeScript.kernelCommandLine(own, BASE, MAC)).noneMatch(a -> a.contains("${"));
        assertThat(IpxeScript.forMachine(prelude, BASE, MAC)).contains(" pivot.ip=${ip} pivot.netmask=${netmask}");
    }

    @Test
    void scriptLoadsKernelAndNamedInitrdsByContentAddressedUrl() {
        String script = IpxeScript.forMachine(spec(List.of("quiet")), BASE, MAC);
        List<String> lines = script.lines().toList();

        assertThat(lines.getFirst()).isEqualTo("#!ipxe");
        String kernelUrl = BASE + "/artifacts/" + sha('a') + "/bzImage?mac=52:54:00:12:34:56";
        assertThat(lines).contains("kernel " + kernelUrl + " "
                + String.join(" ", IpxeScript.kernelCommandLine(spec(List.of("quiet")), BASE, MAC))
                + " || goto failed_kernel");
        assertThat(lines).containsSubsequence(
                "initrd --name initrd " + BASE + "/artifacts/" + sha('b') + "/initrd?mac=52:54:00:12:34:56"
                        + " || goto failed_initrd_0",
                "initrd --name pivot.cpio.gz " + BASE + "/artifacts/" + sha('c')
                        + "/pivot.cpio.gz?mac=52:54:00:12:34:56 || goto failed_initrd_1",
                "boot || goto failed_boot");
    }

    @Test
    void everyFailureLabelEchoesTheFileAndRetriesAfterAPause() {
        String script = IpxeScript.forMachine(spec(List.of()), BASE, MAC);
        List<String> lines = script.lines().toList();

        for (String label : List.of("failed_kernel", "failed_initrd_0", "failed_initrd_1", "failed_boot")) {
            assertThat(script).contains("|| goto " + label);
            int at = lines.indexOf(":" + label);
            assertThat(at).as("label %s", label).isPositive();
            assertThat(lines.get(at + 1)).startsWith("echo Pivot: FAILED to ");
            assertThat(lines.get(at + 2)).isEqualTo("goto failed");
        }
        assertThat(lines.get(lines.indexOf(":failed_initrd_1") + 1)).isEqualTo("echo Pivot: FAILED to load initrd "
                + "pivot.cpio.gz from " + BASE + "/artifacts/" + sha('c') + "/pivot.cpio.gz?mac=52:54:00:12:34:56");
        assertThat(lines.get(lines.indexOf(":failed_boot") + 1)).isEqualTo("echo Pivot: FAILED to boot kernel bzImage");
        assertThat(lines.subList(lines.indexOf(":failed"), lines.size()))
                .contains("sleep " + IpxeScript.RETRY_PAUSE_SECONDS + " || shell", "imgfree", "goto start");
        assertThat(lines).contains(":start");
    }

    @Test
    void noMacChainsWithIpxeMacVariables() {
        assertThat(IpxeScript.chainWithMac(BASE)).isEqualTo("#!ipxe\n"
                + "# Pivot: ask again with this machine's MAC address\n"
                + "chain " + BASE + "/boot.ipxe?mac=${net0/mac} || chain " + BASE + "/boot.ipxe?mac=${mac}\n");
    }

    @Test
    void unknownMachineIsToldSoAndExits() {
        assertThat(IpxeScript.noImage(MAC).lines().toList())
                .containsExactly("#!ipxe", "echo Pivot: no image assigned to MAC 52:54:00:12:34:56", "exit 1");
    }

    @Test
    void parametersThatWouldBreakTheScriptAreRefused() {
        assertThatThrownBy(() -> IpxeScript.forMachine(spec(List.of("a b")), BASE, MAC))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'a b'");
        assertThatThrownBy(() -> IpxeScript.forMachine(spec(List.of("x=${net0/ip}")), BASE, MAC))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("${net0/ip}");
        assertThatThrownBy(() -> IpxeScript.forMachine(spec(List.of("x\ny")), BASE, MAC))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aKernelAloneGetsItsOwnCommandLineAndNothingOfStage1() {
        BootSpec kernelOnly = BootSpec.kernelOnly(new Artifact(sha('a'), 100, "linux"),
                List.of(new Artifact(sha('b'), 200, "initrd.gz")), List.of("console=ttyS0,115200", "priority=low"));
        assertThat(IpxeScript.kernelCommandLine(kernelOnly, BASE, MAC))
                .containsExactly("initrd=initrd.gz", "console=ttyS0,115200", "priority=low");
        String script = IpxeScript.forMachine(kernelOnly, BASE, MAC);
        assertThat(script).contains("kernel " + BASE + "/artifacts/" + sha('a') + "/linux")
                .contains("initrd --name initrd.gz " + BASE + "/artifacts/" + sha('b') + "/initrd.gz")
                .doesNotContain("pivot.").doesNotContain("rdinit=").doesNotContain("init=/");
        assertThat(PxelinuxConfig.render(kernelOnly, BASE, MAC))
                .contains("  APPEND console=ttyS0,115200 priority=low\n");
    }

    @Test
    void theMenuListsGenerationsNewestFirstWithVersionDateAndNumberAndChainsToTheChosenOne() {
        dev.pivot.boot.BootPlan plan = menuPlan();
        dev.pivot.boot.BootSpec spec = plan.spec();
        dev.pivot.boot.MacAddress mac = dev.pivot.boot.MacAddress.parse("52:54:00:00:00:01");
        String script = IpxeScript.menu(plan, "http://10.0.0.1", mac);
        assertThat(script).startsWith("#!ipxe\n").contains("""
                item gen_12 NixOS 25.05.20250101.abc (Generation 12, built 2026-12-05 02:40)
                item --key 2 gen_2 NixOS 24.11 (Generation 2, built 2026-12-05 02:40) (default)
                item --key 1 gen_1 NixOS (Generation 1, built 2026-12-05 02:40)
                choose --timeout 7000 --default gen_2 selected || set selected gen_2
                goto ${selected}
                """).contains("""
                :gen_1
                echo Pivot: booting generation 1
                chain --replace --autofree http://10.0.0.1/boot.ipxe?mac=52:54:00:00:00:01&generation=1 || goto failed
                """);
        assertThat(plan.showsMenu()).isTrue();
        assertThat(new dev.pivot.boot.BootPlan(spec, "pc", 2, plan.menu(), 0).showsMenu()).as("timeout 0").isFalse();
        assertThat(new dev.pivot.boot.BootPlan(spec, "pc", 2, plan.menu().subList(0, 1), 5).showsMenu())
                .as("one generation").isFalse();
    }

    @Test
    void aMenuChoiceChainsToItsScriptFromTheFirstServerThatAnswers() {
        dev.pivot.boot.MacAddress mac = dev.pivot.boot.MacAddress.parse("52:54:00:00:00:01");
        String script = IpxeScript.menu(menuPlan(), List.of("http://10.0.0.1", "http://10.0.0.2:8080"), mac);
        assertThat(script).contains("""
                :gen_12
                echo Pivot: booting generation 12
                chain --replace --autofree http://10.0.0.1/boot.ipxe?mac=52:54:00:00:00:01&generation=12 \
                || chain --replace --autofree http://10.0.0.2:8080/boot.ipxe?mac=52:54:00:00:00:01&generation=12 \
                || goto failed
                """).endsWith("""
                chain --replace --autofree http://10.0.0.1/boot.ipxe?mac=52:54:00:00:00:01 \
                || chain --replace --autofree http://10.0.0.2:8080/boot.ipxe?mac=52:54:00:00:00:01
                """);
        assertThatThrownBy(() -> IpxeScript.menu(menuPlan(), List.of(), mac))
                .hasMessageContaining("at least one server URL");
    }

    /** Generations 12, 2 (the default) and 1, a 7 s timeout. */
    private static dev.pivot.boot.BootPlan menuPlan() {
        dev.pivot.boot.Artifact a = new dev.pivot.boot.Artifact("a".repeat(64), 1, "bzImage");
        dev.pivot.boot.BootSpec spec = new dev.pivot.boot.BootSpec(a, java.util.List.of(a), a, "/init",
                java.util.List.of(), "/pivot/init");
        java.time.Instant built = java.time.Instant.parse("2026-12-05T02:40:11Z");
        return new dev.pivot.boot.BootPlan(spec, "pc", 2, java.util.List.of(
                new dev.pivot.boot.BootPlan.MenuEntry(12, "25.05.20250101.abc", built, false),
                new dev.pivot.boot.BootPlan.MenuEntry(2, "24.11", built, true),
                new dev.pivot.boot.BootPlan.MenuEntry(1, "", built, false)), 7);
    }

    @Test
    void everyLiveServerIsTriedForEachArtifactAndStage1IsToldTheOthers() {
        String other = "http://10.77.0.2:8080";
        String third = "http://10.77.0.3:8080";
        String script = IpxeScript.forMachine(spec(List.of()), List.of(BASE, other, third), MAC,
                java.util.Optional.empty());
        String kernelLine = script.lines().filter(l -> l.startsWith("kernel ")).findFirst().orElseThrow();
        // This server first, then the others in order, each with the same command line; then the failure path.
        assertThat(kernelLine.split(" \\|\\| ")).hasSize(4);
        assertThat(kernelLine.split(" \\|\\| ")[0]).startsWith("kernel " + BASE + "/");
        assertThat(kernelLine.split(" \\|\\| ")[1]).startsWith("kernel " + other + "/");
        assertThat(kernelLine.split(" \\|\\| ")[2]).startsWith("kernel " + third + "/");
        assertThat(kernelLine).endsWith("|| goto failed_kernel");
        assertThat(kernelLine.split(" \\|\\| ")[1])
                .contains(" pivot.url=" + BASE + " pivot.fallback=" + other + "," + third + " ");
        String initrdLine = script.lines().filter(l -> l.startsWith("initrd --name pivot.cpio.gz ")).findFirst()
                .orElseThrow();
        assertThat(initrdLine).isEqualTo("initrd --name pivot.cpio.gz " + BASE + "/artifacts/" + sha('c')
                + "/pivot.cpio.gz?mac=52:54:00:12:34:56 || initrd --name pivot.cpio.gz " + other + "/artifacts/" + sha('c')
                + "/pivot.cpio.gz?mac=52:54:00:12:34:56 || initrd --name pivot.cpio.gz " + third + "/artifacts/" + sha('c')
                + "/pivot.cpio.gz?mac=52:54:00:12:34:56 || goto failed_initrd_1");
        // One server: no pivot.fallback, one fetch per artifact, as before.
        assertThat(IpxeScript.forMachine(spec(List.of()), BASE, MAC)).doesNotContain("pivot.fallback")
                .doesNotContain("|| kernel");
    }
}
