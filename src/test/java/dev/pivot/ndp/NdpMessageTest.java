package dev.pivot.ndp;

import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NdpMessageTest {

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s.replace(" ", ""));
    }

    @Test
    void decodesARouterSolicitationWithItsSourceLinkLayerAddress() throws Exception {
        // type 133, code 0, checksum, reserved; option 1 (len 1): 52:54:00:77:00:31 — as iPXE sends it
        byte[] rs = hex("85 00 1234 00000000 01 01 525400770031");
        assertThat(NdpMessage.decode(rs, rs.length))
                .contains(new NdpMessage.RouterSolicitation(Optional.of("52:54:00:77:00:31")));
    }

    @Test
    void decodesWhatRadvdSendsAsARouterThatConfiguresHosts() throws Exception {
        // lifetime 1800, no flags, a prefix information option (type 3, len 4) for fd77:77::/64
        byte[] ra = hex("86 00 0000 40 00 0708 00000000 00000000"
                + "03 04 40 c0 00278d00 00093a80 00000000 fd770077000000000000000000000000");
        NdpMessage.RouterAdvertisement got = (NdpMessage.RouterAdvertisement) NdpMessage.decode(ra, ra.length)
                .orElseThrow();
        assertThat(got.routerLifetimeSeconds()).isEqualTo(1800);
        assertThat(got.hasPrefix()).isTrue();
        assertThat(got.configuresHosts()).isTrue();
    }

    @Test
    void aLifetimeZeroPrefixlessAdvertisementConfiguresNothingAndRoundTrips() throws Exception {
        var mine = NdpMessage.RouterAdvertisement.nothingToConfigure(Optional.of("52:54:00:aa:bb:cc"));
        byte[] wire = NdpMessage.encode(mine);
        assertThat(wire).startsWith(hex("86 00 0000 00 00 0000 00000000 00000000"));
        assertThat(NdpMessage.decode(wire, wire.length)).contains(mine);
        assertThat(mine.configuresHosts()).isFalse();
    }

    @Test
    void managedOrOtherFlagsMarkARealRouterEvenWithoutLifetimeOrPrefix() throws Exception {
        byte[] ra = hex("86 00 0000 40 40 0000 00000000 00000000");
        var got = (NdpMessage.RouterAdvertisement) NdpMessage.decode(ra, ra.length).orElseThrow();
        assertThat(got.other()).isTrue();
        assertThat(got.configuresHosts()).isTrue();
    }

    @Test
    void otherIcmpv6TypesAreNotOurs() throws Exception {
        byte[] echo = hex("80 00 0000 0001 0001");
        assertThat(NdpMessage.decode(echo, echo.length)).isEmpty();
    }

    @Test
    void malformedMessagesAreRefusedWithTheReason() {
        byte[] zeroLengthOption = hex("85 00 0000 00000000 01 00 525400770031");
        assertThatThrownBy(() -> NdpMessage.decode(zeroLengthOption, zeroLengthOption.length))
                .isInstanceOf(NdpDecodeException.class).hasMessageContaining("length 0");
        byte[] overrun = hex("85 00 0000 00000000 01 02 525400770031");
        assertThatThrownBy(() -> NdpMessage.decode(overrun, overrun.length))
                .isInstanceOf(NdpDecodeException.class).hasMessageContaining("runs past");
        byte[] shortRa = hex("86 00 0000 40 00 0708");
        assertThatThrownBy(() -> NdpMessage.decode(shortRa, shortRa.length))
                .isInstanceOf(NdpDecodeException.class).hasMessageContaining("shorter than 16");
        byte[] badCode = hex("85 01 0000 00000000");
        assertThatThrownBy(() -> NdpMessage.decode(badCode, badCode.length))
                .isInstanceOf(NdpDecodeException.class).hasMessageContaining("code 1");
        assertThatThrownBy(() -> NdpMessage.decode(new byte[2], 2)).isInstanceOf(NdpDecodeException.class);
    }

    @Test
    void everyTruncationOfAValidMessageDecodesOrIsRefusedNeverThrowsAnythingElse() {
        byte[] ra = hex("86 00 0000 40 00 0708 00000000 00000000 01 01 525400770031"
                + "03 04 40 c0 00278d00 00093a80 00000000 fd770077000000000000000000000000");
        for (int n = 0; n <= ra.length; n++) {
            int length = n;
            try {
                NdpMessage.decode(ra, length);
            } catch (NdpDecodeException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
    }
}
