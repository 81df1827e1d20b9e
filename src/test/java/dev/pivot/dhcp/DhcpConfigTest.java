package dev.pivot.dhcp;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DhcpConfigTest {

    private static final java.net.Inet4Address SERVER = Ipv4.parse("10.77.0.1");

    @Test
    void defaultsArePortsSixtySevenSixtyEightAndFourThousandElevenAnHourAndNoRouter() {
        DhcpConfig.Pool pool = new DhcpConfig.Pool(Ipv4.parse("10.77.0.50"), Ipv4.parse("10.77.0.60"), 24);
        DhcpConfig config = DhcpConfig.full(SERVER, 8080, pool);

        assertThat(config.serverPort()).isEqualTo(67);
        assertThat(config.clientPort()).isEqualTo(68);
        assertThat(config.proxyPort()).isEqualTo(4011);
        assertThat(config.bindAddress()).isEqualTo(DhcpPacket.ZERO);
        assertThat(pool.leaseTime()).isEqualTo(Duration.ofHours(1));
        assertThat(pool.router()).isEmpty();
        assertThat(pool.netmask()).isEqualTo(Ipv4.parse("255.255.255.0"));
    }

    @Test
    void refusesRangesThatMakeNoSense() {
        assertThatThrownBy(() -> new DhcpConfig.Pool(Ipv4.parse("10.77.0.60"), Ipv4.parse("10.77.0.50"), 24))
                .hasMessageContaining("ends before it starts");
        assertThatThrownBy(() -> new DhcpConfig.Pool(Ipv4.parse("10.77.0.50"), Ipv4.parse("10.77.1.50"), 24))
                .hasMessageContaining("not inside one /24");
        assertThatThrownBy(() -> DhcpConfig.full(SERVER, 8080,
                new DhcpConfig.Pool(Ipv4.parse("10.78.0.50"), Ipv4.parse("10.78.0.60"), 24)))
                .hasMessageContaining("not in the server's subnet 10.77.0.1/24");
        assertThatThrownBy(() -> new DhcpConfig(DhcpConfig.Mode.FULL, SERVER, DhcpPacket.ZERO,
                java.util.Optional.empty(), 67, 68, 4011, 8080, java.util.Optional.empty()))
                .hasMessageContaining("needs an address range");
        assertThatThrownBy(() -> DhcpConfig.proxy(SERVER, 0)).hasMessageContaining("port 0");
    }

    @Test
    void ipv4ParsingNamesTheBadInput() {
        assertThat(Ipv4.parse(" 192.168.1.2 ")).isEqualTo(Ipv4.parse("192.168.1.2"));
        assertThatThrownBy(() -> Ipv4.parse("10.77.0.256")).hasMessage("not an IPv4 address: '10.77.0.256'");
        assertThatThrownBy(() -> Ipv4.parse("eth0")).hasMessage("not an IPv4 address: 'eth0'");
    }
}
