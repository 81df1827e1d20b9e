package dev.pivot.boot;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class BootPolicyTest {

    private static final MacAddress MAC = MacAddress.parse("52:54:00:12:34:56");
    private final BootPolicy policy = BootPolicy.ipxe();

    @Test
    void ipxeClientsGetTheirScriptWhateverTheFirmware() {
        assertThat(policy.firstLoader(new BootClient(MAC, Firmware.BIOS, true)))
                .isEqualTo(new FirstLoader.IpxeScript(MacAddress.parse("52:54:00:12:34:56")));
        assertThat(policy.firstLoader(new BootClient(MAC, Firmware.EFI_X64, true)))
                .isInstanceOf(FirstLoader.IpxeScript.class);
    }

    @Test
    void withTheSecureBootChainUefiPxeGetsShimHttpBootIpxeAndTheUpgradeIsNeverShim() {
        BootPolicy chain = new BootPolicy(new BootPolicy.Loaders("shimx64.efi", "ipxe.efi", Optional.empty(),
                Optional.empty(), Optional.empty()), mac -> Optional.empty());
        assertThat(chain.firstLoader(new BootClient(MAC, Firmware.EFI_X64, false)))
                .isEqualTo(new FirstLoader.TftpFile("shimx64.efi"));
        assertThat(chain.firstLoader(new BootClient(MAC, Firmware.EFI_X64_HTTP, false)))
                .isEqualTo(new FirstLoader.HttpFile("ipxe.efi"));
        assertThat(chain.firstLoader(new BootClient(MAC, Firmware.EFI_X64, true)))
                .isInstanceOf(FirstLoader.IpxeScript.class);
        assertThat(chain.ipxeBuild(Firmware.EFI_X64)).contains(new FirstLoader.TftpFile("ipxe.efi"));
        assertThat(chain.ipxeBuild(Firmware.BIOS)).contains(new FirstLoader.TftpFile("undionly.kpxe"));
        assertThat(chain.ipxeBuild(Firmware.EFI_ARM64)).isEmpty();
    }

    @Test
    void aProfileChoosesTheLoaderOfItsUefiPxeMachinesOnly() {
        MacAddress wantsIpxe = MacAddress.parse("52:54:00:00:00:01");
        MacAddress wantsGrub = MacAddress.parse("52:54:00:00:00:02");
        java.util.function.Function<MacAddress, java.util.Optional<ProfileLoader>> profiles = mac ->
                mac.equals(wantsIpxe) ? java.util.Optional.of(ProfileLoader.IPXE)
                        : mac.equals(wantsGrub) ? java.util.Optional.of(ProfileLoader.GRUB) : java.util.Optional.empty();
        BootPolicy grubDefault = new BootPolicy(new BootPolicy.Loaders("shimx64.efi", "ipxe.efi",
                Optional.of("shimx64.efi"), Optional.empty(), Optional.empty()), profiles);
        assertThat(grubDefault.firstLoader(new BootClient(wantsIpxe, Firmware.EFI_X64, false)))
                .isEqualTo(new FirstLoader.TftpFile("ipxe.efi"));
        assertThat(grubDefault.firstLoader(new BootClient(wantsGrub, Firmware.EFI_X64, false)))
                .isEqualTo(new FirstLoader.TftpFile("shimx64.efi"));
        assertThat(grubDefault.firstLoader(new BootClient(MAC, Firmware.EFI_X64, false)))
                .isEqualTo(new FirstLoader.TftpFile("shimx64.efi"));

        BootPolicy ipxeDefault = new BootPolicy(new BootPolicy.Loaders("snponly.efi", "snponly.efi",
                Optional.of("shimx64.efi"), Optional.empty(), Optional.empty()), profiles);
        assertThat(ipxeDefault.firstLoader(new BootClient(wantsGrub, Firmware.EFI_X64, false)))
                .isEqualTo(new FirstLoader.TftpFile("shimx64.efi"));
        assertThat(ipxeDefault.firstLoader(new BootClient(wantsIpxe, Firmware.EFI_X64, false)))
                .isEqualTo(new FirstLoader.TftpFile("snponly.efi"));
        assertThat(ipxeDefault.firstLoader(new BootClient(MAC, Firmware.EFI_X64, false)))
                .isEqualTo(new FirstLoader.TftpFile("snponly.efi"));

        // Without the chain (packages missing, --dhcp proxy) a profile choosing GRUB gets the iPXE build.
        BootPolicy noChain = new BootPolicy(BootPolicy.Loaders.ipxe("ipxe.efi"), profiles);
        assertThat(noChain.firstLoader(new BootClient(wantsGrub, Firmware.EFI_X64, false)))
                .isEqualTo(new FirstLoader.TftpFile("ipxe.efi"));

        // BIOS, UEFI HTTP Boot and clients that are iPXE already are not the profile's to choose.
        assertThat(grubDefault.firstLoader(new BootClient(wantsGrub, Firmware.BIOS, false)))
                .isEqualTo(new FirstLoader.TftpFile("undionly.kpxe"));
        assertThat(grubDefault.firstLoader(new BootClient(wantsGrub, Firmware.EFI_X64_HTTP, false)))
                .isEqualTo(new FirstLoader.HttpFile("ipxe.efi"));
        assertThat(grubDefault.firstLoader(new BootClient(wantsIpxe, Firmware.EFI_X64, true)))
                .isEqualTo(new FirstLoader.IpxeScript(wantsIpxe));
    }

    @Test
    void withShimByUrlHttpBootGetsShimUnlessItsProfileChoosesIpxeAndTheUpgradeIsNeverShim() {
        MacAddress wantsIpxe = MacAddress.parse("52:54:00:00:00:01");
        MacAddress wantsGrub = MacAddress.parse("52:54:00:00:00:02");
        java.util.function.Function<MacAddress, java.util.Optional<ProfileLoader>> profiles = mac ->
                mac.equals(wantsIpxe) ? java.util.Optional.of(ProfileLoader.IPXE)
                        : mac.equals(wantsGrub) ? java.util.Optional.of(ProfileLoader.GRUB) : java.util.Optional.empty();
        BootPolicy byUrl = new BootPolicy(new BootPolicy.Loaders("shimx64.efi", "ipxe.efi",
                Optional.of("shimx64.efi"), Optional.of("shimx64.efi"), Optional.empty()), profiles);
        assertThat(byUrl.firstLoader(new BootClient(MAC, Firmware.EFI_X64_HTTP, false)))
                .isEqualTo(new FirstLoader.HttpFile("shimx64.efi"));
        assertThat(byUrl.firstLoader(new BootClient(wantsGrub, Firmware.EFI_X64_HTTP, false)))
                .isEqualTo(new FirstLoader.HttpFile("shimx64.efi"));
        assertThat(byUrl.firstLoader(new BootClient(wantsIpxe, Firmware.EFI_X64_HTTP, false)))
                .isEqualTo(new FirstLoader.HttpFile("ipxe.efi"));
        assertThat(byUrl.firstLoader(new BootClient(MAC, Firmware.EFI_X64_HTTP, true)))
                .isEqualTo(new FirstLoader.IpxeScript(MAC));
        assertThat(byUrl.ipxeBuild(Firmware.EFI_X64)).contains(new FirstLoader.TftpFile("ipxe.efi"));
    }

    @Test
    void pxeRomsGetTheDistroIpxeForTheirFirmware() {
        assertThat(policy.firstLoader(new BootClient(MAC, Firmware.BIOS, false)))
                .isEqualTo(new FirstLoader.TftpFile("undionly.kpxe"));
        assertThat(policy.firstLoader(new BootClient(MAC, Firmware.EFI_X64, false)))
                .isEqualTo(new FirstLoader.TftpFile("ipxe.efi"));
        BootPolicy snponly = new BootPolicy(BootPolicy.Loaders.ipxe("snponly.efi"), mac -> Optional.empty());
        assertThat(snponly.firstLoader(new BootClient(MAC, Firmware.EFI_X64, false)))
                .isEqualTo(new FirstLoader.TftpFile("snponly.efi"));
    }

    @Test
    void firmwareWithoutAnIpxeBuildIsRefusedWithAReason() {
        FirstLoader answer = policy.firstLoader(new BootClient(MAC, Firmware.EFI_IA32, false));
        assertThat(answer).isInstanceOf(FirstLoader.NoBoot.class);
        assertThat(((FirstLoader.NoBoot) answer).reason()).contains("EFI_IA32");
    }

    @Test
    void arm64MachinesGetGrubByTftpOrByUrlAndAReasonWhenThereIsNone() {
        BootPolicy withGrub = new BootPolicy(new BootPolicy.Loaders("shimx64.efi", "ipxe.efi", Optional.empty(),
                Optional.empty(), Optional.of("grubaa64.efi")), mac -> Optional.of(ProfileLoader.IPXE));
        assertThat(withGrub.firstLoader(new BootClient(MAC, Firmware.EFI_ARM64, false)))
                .isEqualTo(new FirstLoader.TftpFile("grubaa64.efi"));
        assertThat(withGrub.firstLoader(new BootClient(MAC, Firmware.EFI_ARM64_HTTP, false)))
                .isEqualTo(new FirstLoader.HttpFile("grubaa64.efi"));
        assertThat(withGrub.firstLoader(new BootClient(MAC, Firmware.EFI_X64, false)))
                .as("x86-64 machines keep what their profile chooses").isEqualTo(new FirstLoader.TftpFile("ipxe.efi"));

        for (Firmware arm64 : java.util.List.of(Firmware.EFI_ARM64, Firmware.EFI_ARM64_HTTP)) {
            FirstLoader answer = policy.firstLoader(new BootClient(MAC, arm64, false));
            assertThat(answer).isInstanceOf(FirstLoader.NoBoot.class);
            assertThat(((FirstLoader.NoBoot) answer).reason()).isEqualTo("firmware uefi-arm64 needs GRUB for arm64,"
                    + " which pivot serve could not build (it said why at start)");
        }
    }

    @Test
    void optionNinetyThreeMapsToFirmware() {
        assertThat(Firmware.fromArch(0)).isEqualTo(Firmware.BIOS);
        assertThat(Firmware.fromArch(7)).isEqualTo(Firmware.EFI_X64);
        assertThat(Firmware.fromArch(9)).isEqualTo(Firmware.EFI_X64);
        assertThat(Firmware.fromArch(11)).isEqualTo(Firmware.EFI_ARM64);
        assertThat(Firmware.fromArch(16)).isEqualTo(Firmware.EFI_X64_HTTP);
        assertThat(Firmware.fromArch(4242)).isEqualTo(Firmware.UNKNOWN);
    }
}
