package dev.pivot.dhcp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class DhcpResponderTest {

    private static final Inet4Address SERVER = Ipv4.parse("10.77.0.1");
    private static final InetSocketAddress FROM_NOWHERE = new InetSocketAddress(DhcpPacket.ZERO, 68);
    private static final MacAddress A = MacAddress.parse("52:54:00:00:00:0a");
    private static final MacAddress B = MacAddress.parse("52:54:00:00:00:0b");

    private final List<BootEvent> events = new ArrayList<>();
    private final AddressBook addressBook = new AddressBook();
    private final MutableClock clock = new MutableClock();

    // ---------------------------------------------------------------- PROXY

    private DhcpResponder proxy() {
        return new DhcpResponder(DhcpConfig.proxy(SERVER, 8080), BootPolicy.ipxe(), addressBook, events::add,
                Optional.empty());
    }

    @Test
    void proxyOffersIpxeTheScriptUrlWithoutAnAddress() {
        DhcpPacket discover = Packets.decoded("ipxe-bios");

        DhcpResponder.Reply reply = proxy().handle(discover, FROM_NOWHERE, DhcpResponder.Port.SERVER).orElseThrow();
        DhcpPacket offer = reply.packet();

        assertThat(offer.messageType()).contains(MessageType.OFFER);
        assertThat(offer.xid()).isEqualTo(discover.xid());
        assertThat(offer.yiaddr()).isEqualTo(DhcpPacket.ZERO);
        assertThat(offer.file()).isEqualTo("http://10.77.0.1:8080/boot.ipxe?mac=52:54:00:aa:bb:01");
        assertThat(offer.string(DhcpOption.BOOTFILE_NAME)).contains(offer.file());
        assertThat(offer.vendorClass()).contains("PXEClient");
        assertThat(offer.address(DhcpOption.SERVER_ID)).contains(SERVER);
        assertThat(offer.encapsulated(DhcpOption.VENDOR_ENCAPSULATED).get(DhcpOption.PXE_DISCOVERY_CONTROL))
                .containsExactly(8);
        assertThat(offer.option(DhcpOption.CLIENT_UUID).orElseThrow())
                .isEqualTo(discover.option(DhcpOption.CLIENT_UUID).orElseThrow());
        assertThat(reply.destination()).isEqualTo(new InetSocketAddress(DhcpPacket.BROADCAST, 68));
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.step()).isEqualTo(Step.DHCP);
            assertThat(e.detail()).isEqualTo("proxy offer http://10.77.0.1:8080/boot.ipxe?mac=52:54:00:aa:bb:01");
        });
    }

    @Test
    void proxyOffersUefiPxeTheTftpFileWithoutOption43() {
        DhcpPacket offer = proxy().handle(Packets.decoded("ovmf-pxe"), FROM_NOWHERE, DhcpResponder.Port.SERVER)
                .orElseThrow().packet();

        assertThat(offer.file()).isEqualTo("ipxe.efi");
        assertThat(offer.siaddr()).isEqualTo(SERVER);
        assertThat(offer.string(DhcpOption.TFTP_SERVER_NAME)).contains("10.77.0.1");
        assertThat(offer.has(DhcpOption.VENDOR_ENCAPSULATED)).isFalse();
        assertThat(offer.broadcastFlag()).isTrue();
    }

    @Test
    void proxyIgnoresPlainClients() {
        assertThat(proxy().handle(Packets.decoded("udhcpc-plain"), FROM_NOWHERE, DhcpResponder.Port.SERVER)).isEmpty();
        assertThat(events).isEmpty();
    }

    @Test
    void proxyAnswersTheRequestOnPort4011ToItsSourceAndLearnsTheAddress() {
        Inet4Address client = Ipv4.parse("10.77.0.99");
        DhcpPacket request = Packets.decoded("ipxe-bios").toBuilder().type(MessageType.REQUEST).ciaddr(client).build();
        InetSocketAddress source = new InetSocketAddress(client, 68);

        DhcpResponder.Reply reply = proxy().handle(request, source, DhcpResponder.Port.PROXY).orElseThrow();

        assertThat(reply.packet().messageType()).contains(MessageType.ACK);
        assertThat(reply.packet().yiaddr()).isEqualTo(DhcpPacket.ZERO);
        assertThat(reply.packet().file()).startsWith("http://10.77.0.1:8080/boot.ipxe");
        assertThat(reply.destination()).isEqualTo(source);
        assertThat(reply.via()).isEqualTo(DhcpResponder.Port.PROXY);
        assertThat(addressBook.macOf(client)).contains(MacAddress.parse("52:54:00:aa:bb:01"));
    }

    @Test
    void proxyStaysSilentOnTheRoutersRequestButLearnsTheRequestedAddress() {
        Inet4Address leased = Ipv4.parse("10.77.0.120");
        DhcpPacket request = Packets.decoded("ovmf-pxe").toBuilder().type(MessageType.REQUEST)
                .option(DhcpOption.REQUESTED_IP, leased).option(DhcpOption.SERVER_ID, Ipv4.parse("10.77.0.254")).build();

        assertThat(proxy().handle(request, FROM_NOWHERE, DhcpResponder.Port.SERVER)).isEmpty();
        assertThat(addressBook.macOf(leased)).contains(MacAddress.parse("52:54:00:aa:bb:02"));
    }

    @Test
    void proxyDoesNotAnswerFirmwareWithoutALoaderAndSaysWhyOnce() {
        DhcpPacket arm = DhcpPacket.builder().mac(A).type(MessageType.DISCOVER)
                .option(DhcpOption.VENDOR_CLASS, "PXEClient:Arch:00011:UNDI:003000").optionU16(DhcpOption.CLIENT_ARCH, 11)
                .build();
        DhcpResponder proxy = proxy();

        assertThat(proxy.handle(arm, FROM_NOWHERE, DhcpResponder.Port.SERVER)).isEmpty();
        assertThat(proxy.handle(arm, FROM_NOWHERE, DhcpResponder.Port.SERVER)).isEmpty();
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.failed()).isTrue();
            assertThat(e.detail()).contains("uefi-arm64");
        });
    }

    @Test
    void proxyAnswersUefiHttpBootWithAUrlAndHttpClientClass() {
        DhcpPacket http = DhcpPacket.builder().mac(A).type(MessageType.DISCOVER)
                .option(DhcpOption.VENDOR_CLASS, "HTTPClient:Arch:00016:UNDI:003001")
                .optionU16(DhcpOption.CLIENT_ARCH, 16).build();

        DhcpPacket offer = proxy().handle(http, FROM_NOWHERE, DhcpResponder.Port.SERVER).orElseThrow().packet();

        assertThat(offer.file()).isEqualTo("http://10.77.0.1:8080/ipxe/ipxe.efi");
        assertThat(offer.vendorClass()).contains("HTTPClient");
    }

    // ---------------------------------------------------------------- FULL

    private DhcpResponder full(DhcpConfig.Pool pool) {
        return full(pool, OfferGuard.Limits.DEFAULTS, mac -> true);
    }

    private DhcpResponder full(DhcpConfig.Pool pool, OfferGuard.Limits limits,
                               java.util.function.Predicate<MacAddress> known) {
        DhcpConfig config = DhcpConfig.full(SERVER, 8080, pool);
        LeasePool leases = new LeasePool(pool, SERVER, new InMemoryLeaseStore(), clock);
        OfferGuard guard = new OfferGuard(limits, known, new dev.pivot.boot.Refusals(),
                () -> clock.instant().toEpochMilli() * 1_000_000L);
        return new DhcpResponder(config, BootPolicy.ipxe(), addressBook, events::add, Optional.of(leases), guard);
    }

    @Test
    void aSourcesFloodOfNewMacsIsRateLimitedWhileAMachineWithALeaseIsServed() {
        DhcpResponder r = full(pool("10.77.0.100", "10.77.0.199"), new OfferGuard.Limits(60, 5, false), mac -> true);
        Inet4Address a = answer(r, select(A, answer(r, plain(A, MessageType.DISCOVER)).yiaddr())).yiaddr();
        int offers = 0;
        for (int i = 0; i < 500; i++) {
            MacAddress random = MacAddress.of(new byte[]{2, 0, 0, 0, (byte) (i >> 8), (byte) i});
            offers += r.handle(plain(random, MessageType.DISCOVER), FROM_NOWHERE, DhcpResponder.Port.SERVER)
                    .isPresent() ? 1 : 0;
        }
        assertThat(offers).as("offers to new MACs in one second (A's took one)").isEqualTo(4);
        assertThat(answer(r, plain(A, MessageType.DISCOVER)).yiaddr()).isEqualTo(a);
        clock.advance(Duration.ofSeconds(1));
        assertThat(r.handle(plain(B, MessageType.DISCOVER), FROM_NOWHERE, DhcpResponder.Port.SERVER)).isPresent();
    }

    @Test
    void knownOnlyAnswersNoUnknownMacAndRecordsNothingForThem() {
        DhcpResponder r = full(pool("10.77.0.100", "10.77.0.119"), new OfferGuard.Limits(60, 1000, true),
                A::equals);
        for (int i = 0; i < 100; i++) {
            MacAddress random = MacAddress.of(new byte[]{2, 0, 0, 0, (byte) (i >> 8), (byte) i});
            assertThat(r.handle(plain(random, MessageType.DISCOVER), FROM_NOWHERE, DhcpResponder.Port.SERVER))
                    .isEmpty();
        }
        assertThat(events).isEmpty();
        assertThat(answer(r, plain(A, MessageType.DISCOVER)).yiaddr()).isNotNull();
    }

    private static DhcpConfig.Pool pool(String first, String last) {
        return new DhcpConfig.Pool(Ipv4.parse(first), Ipv4.parse(last), 24);
    }

    private static DhcpPacket plain(MacAddress mac, MessageType type) {
        return DhcpPacket.builder().mac(mac).xid(mac.hashCode()).type(type).build();
    }

    private static DhcpPacket select(MacAddress mac, Inet4Address offered) {
        return plain(mac, MessageType.REQUEST).toBuilder().option(DhcpOption.REQUESTED_IP, offered)
                .option(DhcpOption.SERVER_ID, SERVER).build();
    }

    private static DhcpPacket answer(DhcpResponder r, DhcpPacket request) {
        return r.handle(request, FROM_NOWHERE, DhcpResponder.Port.SERVER).orElseThrow().packet();
    }

    @Test
    void fullModeRunsDoraAndGivesTwoMachinesDifferentAddresses() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60").withRouter(SERVER).withDns(List.of(SERVER)));

        DhcpPacket offerA = answer(r, plain(A, MessageType.DISCOVER));
        DhcpPacket ackA = answer(r, select(A, offerA.yiaddr()));
        DhcpPacket offerB = answer(r, plain(B, MessageType.DISCOVER));
        DhcpPacket ackB = answer(r, select(B, offerB.yiaddr()));

        assertThat(offerA.yiaddr()).isEqualTo(Ipv4.parse("10.77.0.50"));
        assertThat(ackA.messageType()).contains(MessageType.ACK);
        assertThat(ackA.yiaddr()).isEqualTo(offerA.yiaddr());
        assertThat(ackA.address(DhcpOption.SUBNET_MASK)).contains(Ipv4.parse("255.255.255.0"));
        assertThat(ackA.address(DhcpOption.ROUTER)).contains(SERVER);
        assertThat(ackA.address(DhcpOption.DNS)).contains(SERVER);
        assertThat(ackA.address(DhcpOption.BROADCAST_ADDRESS)).contains(Ipv4.parse("10.77.0.255"));
        assertThat(ackA.u32(DhcpOption.LEASE_TIME)).contains(3600L);
        assertThat(ackA.u32(DhcpOption.RENEWAL_TIME)).contains(1800L);
        assertThat(ackA.file()).isEmpty(); // plain client: an address only
        assertThat(ackB.yiaddr()).isNotEqualTo(ackA.yiaddr()).isEqualTo(Ipv4.parse("10.77.0.51"));
        assertThat(addressBook.macOf(ackB.yiaddr())).contains(B);
        assertThat(events).extracting(BootEvent::detail)
                .containsExactly("offer 10.77.0.50", "ack 10.77.0.50", "offer 10.77.0.51", "ack 10.77.0.51");
    }

    @Test
    void fullModeGivesIpxeTheScriptAndTellsItNotToWaitForProxyDhcp() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60"));

        DhcpPacket offer = answer(r, Packets.decoded("ipxe-bios"));

        assertThat(offer.yiaddr()).isEqualTo(Ipv4.parse("10.77.0.50"));
        assertThat(offer.file()).isEqualTo("http://10.77.0.1:8080/boot.ipxe?mac=52:54:00:aa:bb:01");
        assertThat(offer.encapsulated(DhcpOption.IPXE_ENCAPSULATED).get(DhcpOption.IPXE_NO_PXEDHCP)).containsExactly(1);
        assertThat(offer.has(DhcpOption.ROUTER)).isFalse();
        assertThat(events.getLast().detail())
                .isEqualTo("offer 10.77.0.50 → http://10.77.0.1:8080/boot.ipxe?mac=52:54:00:aa:bb:01");
    }

    @Test
    void fullModeGivesBiosPxeUndionlyOverTftp() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60"));

        DhcpPacket offer = answer(r, Packets.decoded("ipxe-bios").toBuilder().remove(DhcpOption.IPXE_ENCAPSULATED)
                .remove(DhcpOption.USER_CLASS).build());

        assertThat(offer.file()).isEqualTo("undionly.kpxe");
        assertThat(offer.siaddr()).isEqualTo(SERVER);
    }

    @Test
    void fullModeNaksAnAddressLeasedToAnotherMachine() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60"));
        DhcpPacket ackA = answer(r, select(A, answer(r, plain(A, MessageType.DISCOVER)).yiaddr()));

        DhcpResponder.Reply nak = r.handle(select(B, ackA.yiaddr()), FROM_NOWHERE, DhcpResponder.Port.SERVER)
                .orElseThrow();

        assertThat(nak.packet().messageType()).contains(MessageType.NAK);
        assertThat(nak.packet().yiaddr()).isEqualTo(DhcpPacket.ZERO);
        assertThat(nak.destination().getAddress()).isEqualTo(DhcpPacket.BROADCAST);
        // and B's DISCOVER never gets A's address
        assertThat(answer(r, plain(B, MessageType.DISCOVER)).yiaddr()).isNotEqualTo(ackA.yiaddr());
    }

    @Test
    void fullModeNaksAnAddressOutsideTheRange() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60"));

        assertThat(answer(r, select(A, Ipv4.parse("10.77.0.200"))).messageType()).contains(MessageType.NAK);
        assertThat(answer(r, select(A, SERVER)).messageType()).contains(MessageType.NAK);
    }

    @Test
    void renewalIsUnicastToTheClientAndKeepsTheAddress() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60"));
        Inet4Address address = answer(r, select(A, answer(r, plain(A, MessageType.DISCOVER)).yiaddr())).yiaddr();
        clock.advance(Duration.ofMinutes(40));

        DhcpPacket renew = plain(A, MessageType.REQUEST).toBuilder().ciaddr(address).build();
        DhcpResponder.Reply reply = r.handle(renew, new InetSocketAddress(address, 68), DhcpResponder.Port.SERVER)
                .orElseThrow();

        assertThat(reply.packet().messageType()).contains(MessageType.ACK);
        assertThat(reply.packet().yiaddr()).isEqualTo(address);
        assertThat(reply.packet().ciaddr()).isEqualTo(address);
        assertThat(reply.destination()).isEqualTo(new InetSocketAddress(address, 68));
        assertThat(events.getLast().detail()).isEqualTo("renew " + address.getHostAddress());
    }

    @Test
    void aMachineGetsItsPreviousAddressBackAndARequestedOneWhenFree() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60"));
        Inet4Address first = answer(r, select(A, answer(r, plain(A, MessageType.DISCOVER)).yiaddr())).yiaddr();

        assertThat(answer(r, plain(A, MessageType.DISCOVER)).yiaddr()).isEqualTo(first);
        DhcpPacket wantsFiftyFive = plain(B, MessageType.DISCOVER).toBuilder()
                .option(DhcpOption.REQUESTED_IP, Ipv4.parse("10.77.0.55")).build();
        assertThat(answer(r, wantsFiftyFive).yiaddr()).isEqualTo(Ipv4.parse("10.77.0.55"));
    }

    @Test
    void releasedAddressesGoBackToThePool() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.50"));
        Inet4Address address = answer(r, select(A, answer(r, plain(A, MessageType.DISCOVER)).yiaddr())).yiaddr();
        assertThat(r.handle(plain(B, MessageType.DISCOVER), FROM_NOWHERE, DhcpResponder.Port.SERVER)).isEmpty();
        assertThat(events.getLast().failed()).isTrue();

        r.handle(plain(A, MessageType.RELEASE).toBuilder().ciaddr(address).option(DhcpOption.SERVER_ID, SERVER).build(),
                new InetSocketAddress(address, 68), DhcpResponder.Port.SERVER);

        assertThat(answer(r, plain(B, MessageType.DISCOVER)).yiaddr()).isEqualTo(address);
    }

    @Test
    void aFloodOfNewMacsHoldsAtMostHalfTheRangeAndMachinesWithLeasesAreStillServed() {
        DhcpResponder r = full(pool("10.77.0.100", "10.77.0.119"));
        Inet4Address a = answer(r, select(A, answer(r, plain(A, MessageType.DISCOVER)).yiaddr())).yiaddr();
        Inet4Address b = answer(r, select(B, answer(r, plain(B, MessageType.DISCOVER)).yiaddr())).yiaddr();
        java.util.Set<Inet4Address> held = new java.util.HashSet<>();
        for (int i = 0; i < 2000; i++) {
            MacAddress random = MacAddress.of(new byte[]{2, 0, 0, 0, (byte) (i >> 8), (byte) i});
            r.handle(plain(random, MessageType.DISCOVER), FROM_NOWHERE, DhcpResponder.Port.SERVER)
                    .ifPresent(reply -> held.add(reply.packet().yiaddr()));
        }
        assertThat(held).hasSize(10).doesNotContain(a, b);
        assertThat(events).noneMatch(e -> e.dhcp().equals(Optional.of(BootEvent.DhcpAnswer.NO_ADDRESS)));
        // A machine with a lease renews, and starting over it gets its address back.
        assertThat(answer(r, select(A, a)).yiaddr()).isEqualTo(a);
        assertThat(answer(r, plain(A, MessageType.DISCOVER)).yiaddr()).isEqualTo(a);
        // B's lease ran out: a new flood takes never-used addresses and expired offers first, B's stays free for it.
        clock.advance(Duration.ofHours(2));
        for (int i = 0; i < 2000; i++) {
            MacAddress random = MacAddress.of(new byte[]{2, 0, 0, 1, (byte) (i >> 8), (byte) i});
            r.handle(plain(random, MessageType.DISCOVER), FROM_NOWHERE, DhcpResponder.Port.SERVER);
        }
        assertThat(answer(r, plain(B, MessageType.DISCOVER)).yiaddr()).isEqualTo(b);
        // Offers expire after seconds: the range is free for new machines again.
        clock.advance(Duration.ofSeconds(11));
        assertThat(r.handle(plain(MacAddress.parse("52:54:00:00:00:0c"), MessageType.DISCOVER), FROM_NOWHERE,
                DhcpResponder.Port.SERVER)).isPresent();
    }

    @Test
    void declinedAddressesAreSkipped() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.52"));
        Inet4Address offered = answer(r, plain(A, MessageType.DISCOVER)).yiaddr();
        answer(r, select(A, offered));

        r.handle(plain(A, MessageType.DECLINE).toBuilder().option(DhcpOption.REQUESTED_IP, offered)
                .option(DhcpOption.SERVER_ID, SERVER).build(), FROM_NOWHERE, DhcpResponder.Port.SERVER);

        assertThat(answer(r, plain(A, MessageType.DISCOVER)).yiaddr()).isEqualTo(Ipv4.parse("10.77.0.51"));
        assertThat(answer(r, plain(B, MessageType.DISCOVER)).yiaddr()).isEqualTo(Ipv4.parse("10.77.0.52"));
    }

    @Test
    void anExpiredLeaseMayGoToAnotherMachine() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.50"));
        Inet4Address address = answer(r, select(A, answer(r, plain(A, MessageType.DISCOVER)).yiaddr())).yiaddr();
        clock.advance(Duration.ofHours(2));

        assertThat(answer(r, plain(B, MessageType.DISCOVER)).yiaddr()).isEqualTo(address);
    }

    @Test
    void reservationsWinAndAreNeverGivenToOthers() {
        Inet4Address reserved = Ipv4.parse("10.77.0.50");
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60").withReservations(Map.of(B, reserved)));

        assertThat(answer(r, plain(A, MessageType.DISCOVER)).yiaddr()).isEqualTo(Ipv4.parse("10.77.0.51"));
        assertThat(answer(r, plain(B, MessageType.DISCOVER)).yiaddr()).isEqualTo(reserved);
        assertThat(answer(r, select(A, reserved)).messageType()).contains(MessageType.NAK);
    }

    @Test
    void aRequestForAnotherServersOfferIsIgnoredAndFreesOurs() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.50"));
        Inet4Address offered = answer(r, plain(A, MessageType.DISCOVER)).yiaddr();

        DhcpPacket elsewhere = plain(A, MessageType.REQUEST).toBuilder().option(DhcpOption.REQUESTED_IP,
                Ipv4.parse("192.168.1.9")).option(DhcpOption.SERVER_ID, Ipv4.parse("192.168.1.1")).build();
        assertThat(r.handle(elsewhere, FROM_NOWHERE, DhcpResponder.Port.SERVER)).isEmpty();

        assertThat(answer(r, plain(B, MessageType.DISCOVER)).yiaddr()).isEqualTo(offered);
    }

    @Test
    void relayedRequestsGoBackToTheRelayWithAgentInformation() {
        Inet4Address relay = Ipv4.parse("10.77.0.254");
        byte[] agentInfo = {1, 4, 'p', 'o', 'r', 't'};
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60"));
        DhcpPacket discover = plain(A, MessageType.DISCOVER).toBuilder().giaddr(relay).hops(1)
                .option(DhcpOption.RELAY_AGENT_INFO, agentInfo).build();

        DhcpResponder.Reply reply = r.handle(discover, new InetSocketAddress(relay, 67), DhcpResponder.Port.SERVER)
                .orElseThrow();

        assertThat(reply.destination()).isEqualTo(new InetSocketAddress(relay, 67));
        assertThat(reply.packet().giaddr()).isEqualTo(relay);
        assertThat(reply.packet().option(DhcpOption.RELAY_AGENT_INFO)).hasValueSatisfying(v ->
                assertThat(v).isEqualTo(agentInfo));
    }

    @Test
    void informGetsNetworkOptionsWithoutALease() {
        Inet4Address configured = Ipv4.parse("10.77.0.7");
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60"));

        DhcpResponder.Reply reply = r.handle(plain(A, MessageType.INFORM).toBuilder().ciaddr(configured).build(),
                new InetSocketAddress(configured, 68), DhcpResponder.Port.SERVER).orElseThrow();

        assertThat(reply.packet().messageType()).contains(MessageType.ACK);
        assertThat(reply.packet().yiaddr()).isEqualTo(DhcpPacket.ZERO);
        assertThat(reply.packet().has(DhcpOption.LEASE_TIME)).isFalse();
        assertThat(reply.destination()).isEqualTo(new InetSocketAddress(configured, 68));
    }

    @Test
    void repliesFromOtherServersAreIgnored() {
        DhcpResponder r = full(pool("10.77.0.50", "10.77.0.60"));
        DhcpPacket someonesOffer = plain(A, MessageType.OFFER).toBuilder().op(DhcpPacket.BOOTREPLY).build();

        assertThat(r.handle(someonesOffer, FROM_NOWHERE, DhcpResponder.Port.SERVER)).isEmpty();
    }

    private static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
