package dev.pivot.profiles;

import dev.pivot.boot.BootSource;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.ProfileLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProfilesFileTest {

    static final Path BASE = Path.of("/etc/pivot");

    static final String GOOD = """
            # what each machine boots
            profiles:
              demo:
                image: /var/cache/pivot/demo-image
                params: ["console=ttyS0,115200", "loglevel=7"]
              rescue:
                image: images/rescue
            groups:
              lab:
                profile: demo
                machines:
                  - 52:54:00:77:00:10
                  - 52-54-00-77-00-11
            default: rescue
            """;

    @Test
    void readsProfilesGroupsAndDefault() {
        ProfilesFile f = ProfilesFile.parse("profiles.yaml", GOOD, BASE);
        assertThat(f.profiles()).containsOnlyKeys("demo", "rescue");
        assertThat(f.profiles().get("demo").source()).isEqualTo(new BootSource.ImageDir(Path.of("/var/cache/pivot/demo-image")));
        assertThat(f.profiles().get("demo").params()).containsExactly("console=ttyS0,115200", "loglevel=7");
        assertThat(f.profiles().get("rescue").source()).isEqualTo(new BootSource.ImageDir(Path.of("/etc/pivot/images/rescue")));
        assertThat(f.profiles().get("rescue").params()).isEmpty();
        assertThat(f.groups().get("lab").profile()).isEqualTo("demo");
        assertThat(f.groups().get("lab").machines()).containsExactly(MacAddress.parse("52:54:00:77:00:10"),
                MacAddress.parse("52:54:00:77:00:11"));
        assertThat(f.defaultProfile()).contains("rescue");
    }

    @Test
    void aMistakeOfMeaningNamesItsLine() {
        assertError(GOOD.replace("profile: demo", "profile: dmeo"),
                "profiles.yaml line 10: group lab: unknown profile 'dmeo' (known: demo, rescue)");
        assertError(GOOD.replace("52-54-00-77-00-11", "52-54-00-77-00-1x"),
                "profiles.yaml line 13: group lab: not a MAC address: '52-54-00-77-00-1x'");
        assertError(GOOD.replace("default: rescue", "default: nothing"),
                "profiles.yaml line 14: default: unknown profile 'nothing' (known: demo, rescue)");
        assertError(GOOD.replace("groups:", "gruops:"),
                "profiles.yaml line 8: unknown key 'gruops' (expected one of default, groups, profiles)");
    }

    @Test
    void aMachineInTwoGroupsIsNamed() {
        String twice = GOOD.replace("default: rescue\n", """
                  spare:
                    profile: rescue
                    machines: [52:54:00:77:00:10]
                default: rescue
                """);
        assertError(twice, "profiles.yaml line 16: group spare: 52:54:00:77:00:10 is already in group lab");
    }

    @Test
    void aMistakeOfShapeNamesItsLine() {
        assertError(GOOD.replace("    image: images/rescue", "    imge: images/rescue"),
                "profiles.yaml line 7: unknown key 'imge' (expected one of cmdline, image, initrd, kernel, loader, params)");
        assertError("profiles:\n  demo: [unclosed\n", "profiles.yaml line 2: while parsing a flow sequence");
        assertError("profiles:\n  demo:\n    params: []\n", "profiles.yaml line 2: profile demo: boots nothing"
                + " (give image: DIR, or kernel: FILE with initrd: and cmdline:)");
        assertError("profiles:\n  demo:\n    image: [a, b]\n", "profiles.yaml line 3: profile demo: image: expected a text");
        assertError("", "profiles.yaml: empty file");
        assertError("groups: {}\n", "profiles.yaml: no profiles");
        assertError("profiles: 5\n", "profiles.yaml line 1: no profiles");
    }

    @Test
    void aMissingFileIsNamed(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ProfilesFile.parse(missing)).hasMessage(missing + ": no such file");
        Path file = Files.writeString(dir.resolve("p.yaml"), GOOD);
        assertThat(ProfilesFile.parse(file).profiles().get("rescue").source()).isEqualTo(new BootSource.ImageDir(dir.resolve("images/rescue")));
    }

    @Test
    void groupsSelectByFirmwareAndLabelsOrByMachinesNotBoth() {
        ProfilesFile f = ProfilesFile.parse("profiles.yaml", """
                profiles:
                  demo:
                    image: demo
                groups:
                  rack7:
                    profile: demo
                    firmware: uefi
                    labels: {rack: r7, room: "2"}
                """, BASE);
        assertThat(f.groups().get("rack7").firmware()).contains(dev.pivot.boot.Firmware.EFI_X64);
        assertThat(f.groups().get("rack7").labels()).containsEntry("rack", "r7").containsEntry("room", "2");
        assertThat(f.groups().get("rack7").machines()).isEmpty();

        assertError("""
                profiles:
                  demo:
                    image: demo
                groups:
                  odd:
                    profile: demo
                    firmware: amiga
                """, "profiles.yaml line 7: group odd: firmware 'amiga' (expected one of bios, uefi-ia32, uefi, uefi-arm64, uefi-http, uefi-arm64-http)");
        assertError("""
                profiles:
                  demo:
                    image: demo
                groups:
                  both:
                    profile: demo
                    firmware: bios
                    machines: ["52:54:00:77:00:10"]
                """, "profiles.yaml line 5: group both: give machines or firmware/labels, not both");
        assertError("""
                profiles:
                  demo:
                    image: demo
                groups:
                  none:
                    profile: demo
                """, "profiles.yaml line 5: group none: selects nothing");
    }

    @Test
    void aProfileMayBeAKernelWithInitrdsAndACommandLine() {
        ProfilesFile f = ProfilesFile.parse("profiles.yaml", """
                profiles:
                  installer:
                    kernel: d-i/linux
                    initrd: [d-i/initrd.gz, /srv/firmware.cpio.gz]
                    cmdline: "console=ttyS0,115200  priority=low"
                    params: [auto=true]
                  memtest:
                    kernel: /srv/memtest86+x64.bin
                """, BASE);
        assertThat(f.profiles().get("installer").source()).isEqualTo(new BootSource.KernelFiles(
                BASE.resolve("d-i/linux"), List.of(BASE.resolve("d-i/initrd.gz"), Path.of("/srv/firmware.cpio.gz")),
                List.of("console=ttyS0,115200", "priority=low")));
        assertThat(f.profiles().get("installer").params()).containsExactly("auto=true");
        assertThat(f.profiles().get("memtest").source())
                .isEqualTo(new BootSource.KernelFiles(Path.of("/srv/memtest86+x64.bin"), List.of(), List.of()));
        // One initrd may be written without a list.
        assertThat(ProfilesFile.parse("profiles.yaml", "profiles:\n  i:\n    kernel: k\n    initrd: i.gz\n", BASE)
                .profiles().get("i").source())
                .isEqualTo(new BootSource.KernelFiles(BASE.resolve("k"), List.of(BASE.resolve("i.gz")), List.of()));
    }

    @Test
    void kernelAndImageDoNotMix() {
        assertError("profiles:\n  x:\n    image: a\n    kernel: k\n",
                "profiles.yaml line 2: profile x: give image or kernel, not both");
        assertError("profiles:\n  x:\n    image: a\n    cmdline: quiet\n",
                "profiles.yaml line 4: profile x: cmdline goes with kernel:, not with image:");
        assertError("profiles:\n  x:\n    kernel: k\n    initrd: {a: b}\n",
                "profiles.yaml line 4: profile x: initrd: expected a list");
    }

    @Test
    void aProfileMayChooseItsUefiLoader() {
        ProfilesFile f = ProfilesFile.parse("profiles.yaml", GOOD.replace("    image: images/rescue",
                "    image: images/rescue\n    loader: ipxe"), BASE);
        assertThat(f.profiles().get("rescue").loader()).contains(ProfileLoader.IPXE);
        assertThat(f.profiles().get("demo").loader()).isEmpty();
        assertThat(ProfilesFile.parse("profiles.yaml", "profiles:\n  x:\n    image: a\n    loader: grub\n", BASE)
                .profiles().get("x").loader()).contains(ProfileLoader.GRUB);
    }

    @Test
    void anUnknownLoaderIsOneLineNamingFileProfileAndValue() {
        assertThatThrownBy(() -> ProfilesFile.parse("profiles.yaml",
                "profiles:\n  x:\n    image: a\n    loader: pxelinux\n", BASE))
                .isInstanceOf(ProfileConfigException.class)
                .hasMessage("profiles.yaml line 4: profile x: loader 'pxelinux' (expected ipxe or grub)");
        assertError("profiles:\n  x:\n    image: a\n    loader: [ipxe]\n",
                "profiles.yaml line 4: profile x: loader: expected a text");
    }

    static void assertError(String yaml, String message) {
        assertThatThrownBy(() -> ProfilesFile.parse("profiles.yaml", yaml, BASE))
                .isInstanceOf(ProfileConfigException.class).message().startsWith(message);
    }
}
