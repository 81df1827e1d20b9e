package dev.pivot.tftp;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;

import static org.assertj.core.api.Assertions.assertThat;

class TftpConfigTest {

    @Test
    void theBlockSizeCeilingIsWhatFitsTheMtuUnfragmented() {
        assertThat(TftpConfig.blockSizeForMtu(1500)).as("Ethernet").isEqualTo(1468);
        assertThat(TftpConfig.blockSizeForMtu(9000)).as("jumbo frames").isEqualTo(8968);
        assertThat(TftpConfig.blockSizeForMtu(65536)).as("loopback, within RFC 2348").isEqualTo(65464);
        assertThat(TftpConfig.blockSizeForMtu(576)).as("never below the RFC 1350 block").isEqualTo(544);
        assertThat(TftpConfig.blockSizeForMtu(68)).isEqualTo(512);
    }

    @Test
    void theMtuComesFromTheInterfaceHoldingTheAddress() throws Exception {
        assertThat(TftpConfig.mtuOf(InetAddress.getLoopbackAddress())).as("lo").isPresent();
        assertThat(TftpConfig.mtuOf(InetAddress.getLoopbackAddress()).getAsInt()).isGreaterThanOrEqualTo(1500);
        assertThat(TftpConfig.maxBlockSizeFor(InetAddress.getLoopbackAddress())).isEqualTo(
                TftpConfig.blockSizeForMtu(TftpConfig.mtuOf(InetAddress.getLoopbackAddress()).getAsInt()));
        assertThat(TftpConfig.maxBlockSizeFor(InetAddress.getByName("192.0.2.77"))).as("unknown: Ethernet's")
                .isEqualTo(1468);
        assertThat(TftpConfig.mtuOf(InetAddress.getByName("192.0.2.77"))).as("an address on no interface here")
                .isEmpty();
    }
}
