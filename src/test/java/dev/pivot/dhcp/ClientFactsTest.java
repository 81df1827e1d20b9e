package dev.pivot.dhcp;

import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.Firmware;
import dev.pivot.boot.FirstLoader;
import dev.pivot.boot.MacAddress;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClientFactsTest {

    private final BootPolicy policy = BootPolicy.ipxe();

    @Test
    void qemusIpxeRomIsAnIpxeBiosClientAndGetsTheScript() {
        ClientFacts facts = ClientFacts.of(Packets.decoded("ipxe-bios")).orElseThrow();

        assertThat(facts.mac()).isEqualTo(MacAddress.parse("52:54:00:aa:bb:01"));
        assertThat(facts.firmware()).isEqualTo(Firmware.BIOS);
        assertThat(facts.pxe()).isTrue();
        assertThat(facts.ipxe()).isTrue();
        assertThat(policy.firstLoader(facts.bootClient()))
                .isEqualTo(new FirstLoader.IpxeScript(MacAddress.parse("52:54:00:aa:bb:01")));
    }

    @Test
    void ovmfsOwnPxeIsAUefiX64ClientAndGetsIpxeEfiOverTftp() {
        ClientFacts facts = ClientFacts.of(Packets.decoded("ovmf-pxe")).orElseThrow();

        assertThat(facts.firmware()).isEqualTo(Firmware.EFI_X64);
        assertThat(facts.ipxe()).isFalse();
        assertThat(facts.uefi()).isTrue();
        assertThat(policy.firstLoader(facts.bootClient())).isEqualTo(new FirstLoader.TftpFile("ipxe.efi"));
    }

    @Test
    void plainUdhcpcIsNotAPxeClient() {
        ClientFacts facts = ClientFacts.of(Packets.decoded("udhcpc-plain")).orElseThrow();

        assertThat(facts.pxe()).isFalse();
        assertThat(facts.ipxe()).isFalse();
        assertThat(facts.wantsBoot()).isFalse();
    }

    @Test
    void vendorClassArchIsUsedWhenOption93IsMissing() {
        assertThat(ClientFacts.firmware(List.of(), "PXEClient:Arch:00007:UNDI:003016", false)).isEqualTo(Firmware.EFI_X64);
        assertThat(ClientFacts.firmware(List.of(), "PXEClient:Arch:00011:UNDI:003000", false)).isEqualTo(Firmware.EFI_ARM64);
        assertThat(ClientFacts.firmware(List.of(), "PXEClient", false)).isEqualTo(Firmware.BIOS);
        assertThat(ClientFacts.firmware(List.of(), "udhcp 1.35.0", false)).isEqualTo(Firmware.UNKNOWN);
    }

    @Test
    void httpClientVendorClassMeansUefiHttpBoot() {
        DhcpPacket p = DhcpPacket.builder().mac(MacAddress.parse("52:54:00:00:00:10")).type(MessageType.DISCOVER)
                .option(DhcpOption.VENDOR_CLASS, "HTTPClient:Arch:00016:UNDI:003001")
                .optionU16(DhcpOption.CLIENT_ARCH, 16).build();

        ClientFacts facts = ClientFacts.of(p).orElseThrow();

        assertThat(facts.httpBoot()).isTrue();
        assertThat(facts.pxe()).isTrue();
        assertThat(facts.firmware()).isEqualTo(Firmware.EFI_X64_HTTP);
        assertThat(policy.firstLoader(facts.bootClient())).isEqualTo(new FirstLoader.HttpFile("ipxe.efi"));
        // A client sending arch 7 with an HTTPClient class is HTTP Boot as well.
        assertThat(ClientFacts.firmware(List.of(7), "HTTPClient:Arch:00007", true)).isEqualTo(Firmware.EFI_X64_HTTP);
    }

    @Test
    void nonEthernetClientsAreNotBooted() {
        DhcpPacket p = DhcpPacket.builder().htype(32).hlen(8).type(MessageType.DISCOVER).build();

        assertThat(ClientFacts.of(p)).isEmpty();
    }
}
