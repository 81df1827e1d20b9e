package dev.pivot.dhcp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootClient;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.Firmware;
import dev.pivot.boot.FirstLoader;
import dev.pivot.boot.MacAddress;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** The optional iPXE upgrade chain (netboot-facts pitfall 9: ROM iPXE and chained iPXE look the same). */
class IpxeUpgradeTest {

    private static final MacAddress MAC = MacAddress.parse("52:54:00:aa:bb:01");
    private static final InetSocketAddress FROM_NOWHERE = new InetSocketAddress(DhcpPacket.ZERO, 68);

    @Test
    void romIpxeGetsTheDistrosIpxeForItsWholeSessionThenTheChainedIpxeGetsTheScript() {
        DhcpConfig.Pool pool = new DhcpConfig.Pool(Ipv4.parse("10.77.0.50"), Ipv4.parse("10.77.0.60"), 24);
        DhcpConfig config = DhcpConfig.full(Ipv4.parse("10.77.0.1"), 8080, pool).withIpxeUpgrade(true);
        DhcpResponder responder = new DhcpResponder(config, BootPolicy.ipxe(), new AddressBook(), event -> { },
                Optional.of(new LeasePool(pool, config.serverAddress(), new InMemoryLeaseStore(), Clock.systemUTC())));
        DhcpPacket romDiscover = Packets.decoded("ipxe-bios"); // QEMU's ROM iPXE, captured

        DhcpPacket offer = reply(responder, romDiscover);
        DhcpPacket ack = reply(responder, romDiscover.toBuilder().type(MessageType.REQUEST)
                .option(DhcpOption.REQUESTED_IP, offer.yiaddr()).option(DhcpOption.SERVER_ID, config.serverAddress())
                .build());
        // undionly.kpxe starts and asks again: same bytes, new session (xid).
        DhcpPacket chained = reply(responder, romDiscover.toBuilder().xid(romDiscover.xid() + 1).build());

        assertThat(offer.file()).isEqualTo("undionly.kpxe");
        assertThat(offer.siaddr()).isEqualTo(config.serverAddress());
        assertThat(ack.messageType()).contains(MessageType.ACK);
        assertThat(ack.file()).isEqualTo("undionly.kpxe");
        assertThat(chained.file()).isEqualTo("http://10.77.0.1:8080/boot.ipxe?mac=52:54:00:aa:bb:01");
    }

    @Test
    void withoutTheFlagIpxeGetsTheScriptAtOnce() {
        DhcpConfig.Pool pool = new DhcpConfig.Pool(Ipv4.parse("10.77.0.50"), Ipv4.parse("10.77.0.60"), 24);
        DhcpConfig config = DhcpConfig.full(Ipv4.parse("10.77.0.1"), 8080, pool);
        DhcpResponder responder = new DhcpResponder(config, BootPolicy.ipxe(), new AddressBook(), event -> { },
                Optional.of(new LeasePool(pool, config.serverAddress(), new InMemoryLeaseStore(), Clock.systemUTC())));

        assertThat(reply(responder, Packets.decoded("ipxe-bios")).file()).startsWith("http://");
    }

    @Test
    void aRebootAfterTheWindowUpgradesAgainAndOnlyFirmwareWithATftpIpxeIsUpgraded() {
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        Instant[] now = {start};
        Clock clock = new Clock() {
            @Override public ZoneId getZone() { return ZoneOffset.UTC; }
            @Override public Clock withZone(ZoneId zone) { return this; }
            @Override public Instant instant() { return now[0]; }
        };
        IpxeUpgrade upgrade = new IpxeUpgrade(BootPolicy.ipxe(), clock);
        BootClient bios = new BootClient(MAC, Firmware.BIOS, true);

        assertThat(upgrade.loaderFor(bios, 1)).contains(new FirstLoader.TftpFile("undionly.kpxe"));
        assertThat(upgrade.loaderFor(bios, 1)).as("retransmission").isPresent();
        assertThat(upgrade.loaderFor(bios, 2)).as("the chained iPXE").isEmpty();
        now[0] = start.plus(IpxeUpgrade.WINDOW).plus(Duration.ofSeconds(1));
        assertThat(upgrade.loaderFor(bios, 3)).as("a later reboot").isPresent();

        MacAddress other = MacAddress.parse("52:54:00:aa:bb:02");
        assertThat(upgrade.loaderFor(new BootClient(other, Firmware.EFI_X64, true), 9))
                .contains(new FirstLoader.TftpFile("ipxe.efi"));
        assertThat(upgrade.loaderFor(new BootClient(other, Firmware.EFI_ARM64, true), 9)).isEmpty();
        assertThat(upgrade.loaderFor(new BootClient(other, Firmware.BIOS, false), 9)).as("not iPXE").isEmpty();
    }

    private static DhcpPacket reply(DhcpResponder responder, DhcpPacket request) {
        return responder.handle(request, FROM_NOWHERE, DhcpResponder.Port.SERVER).orElseThrow().packet();
    }
}
