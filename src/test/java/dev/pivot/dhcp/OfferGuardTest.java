package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Refusals;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class OfferGuardTest {

    private final AtomicLong nanos = new AtomicLong(1);
    private final Refusals refusals = new Refusals();
    private static final InetSocketAddress BROADCASTER = new InetSocketAddress("0.0.0.0", 68);
    private static final MacAddress KNOWN = MacAddress.parse("52:54:00:00:00:01");

    private OfferGuard guard(int perMac, int perSource, boolean knownOnly) {
        return new OfferGuard(new OfferGuard.Limits(perMac, perSource, knownOnly), Set.of(KNOWN)::contains,
                refusals, nanos::get);
    }

    private static MacAddress mac(int i) {
        return MacAddress.of(new byte[]{2, 0, 0, 0, (byte) (i >> 8), (byte) i});
    }

    @Test
    void oneMacGetsItsOffersAMinuteThenNoneUntilTheMinuteIsOver() {
        OfferGuard g = guard(3, 1000, false);
        for (int i = 0; i < 3; i++) {
            assertThat(g.check(KNOWN, DhcpPacket.ZERO, BROADCASTER, true)).isEqualTo(OfferGuard.Verdict.OFFER);
        }
        assertThat(g.check(KNOWN, DhcpPacket.ZERO, BROADCASTER, true)).isEqualTo(OfferGuard.Verdict.PER_MAC);
        assertThat(refusals.count("dhcp_offers_per_mac")).isEqualTo(1);
        nanos.addAndGet(60_000_000_000L);
        assertThat(g.check(KNOWN, DhcpPacket.ZERO, BROADCASTER, true)).isEqualTo(OfferGuard.Verdict.OFFER);
    }

    @Test
    void newMacsFromOneSourceAreRateLimitedButMachinesWithALeaseAreNot() {
        OfferGuard g = guard(60, 5, false);
        for (int i = 0; i < 5; i++) {
            assertThat(g.check(mac(i), DhcpPacket.ZERO, BROADCASTER, false)).isEqualTo(OfferGuard.Verdict.OFFER);
        }
        assertThat(g.check(mac(99), DhcpPacket.ZERO, BROADCASTER, false)).isEqualTo(OfferGuard.Verdict.PER_SOURCE);
        assertThat(g.check(KNOWN, DhcpPacket.ZERO, BROADCASTER, true)).isEqualTo(OfferGuard.Verdict.OFFER);
        // Another relay has a budget of its own.
        assertThat(g.check(mac(100), Ipv4.parse("10.1.0.1"), BROADCASTER, false))
                .isEqualTo(OfferGuard.Verdict.OFFER);
        nanos.addAndGet(1_000_000_000L);
        assertThat(g.check(mac(99), DhcpPacket.ZERO, BROADCASTER, false)).isEqualTo(OfferGuard.Verdict.OFFER);
    }

    @Test
    void knownOnlyRefusesUnknownMacsWithoutSpendingTheSourcesBudget() {
        OfferGuard g = guard(60, 1, true);
        for (int i = 0; i < 100; i++) {
            assertThat(g.check(mac(i), DhcpPacket.ZERO, BROADCASTER, false))
                    .isEqualTo(OfferGuard.Verdict.UNKNOWN_MACHINE);
        }
        assertThat(g.check(KNOWN, DhcpPacket.ZERO, BROADCASTER, false)).isEqualTo(OfferGuard.Verdict.OFFER);
        // A machine holding a lease renews even if nothing else makes it known.
        assertThat(g.check(mac(500), DhcpPacket.ZERO, BROADCASTER, true)).isEqualTo(OfferGuard.Verdict.OFFER);
        assertThat(refusals.count("dhcp_unknown_machine")).isEqualTo(100);
    }

    @Test
    void theSourceIsTheRelayElseTheSenderElseTheSegment() {
        assertThat(OfferGuard.sourceOf(Ipv4.parse("10.1.0.1"), new InetSocketAddress("10.2.0.2", 67)))
                .isEqualTo("relay 10.1.0.1");
        assertThat(OfferGuard.sourceOf(DhcpPacket.ZERO, new InetSocketAddress("10.2.0.2", 68))).isEqualTo("10.2.0.2");
        assertThat(OfferGuard.sourceOf(DhcpPacket.ZERO, BROADCASTER)).isEqualTo("the local segment");
    }

    @Test
    void aFloodOfMacsCannotGrowTheRateMemory() {
        OfferRate<MacAddress> rate = new OfferRate<>(1, java.time.Duration.ofMinutes(1), nanos::get);
        for (int i = 0; i < 3 * OfferRate.KEYS; i++) {
            rate.take(MacAddress.of(new byte[]{2, 0, 0, (byte) (i >> 16), (byte) (i >> 8), (byte) i}));
        }
        assertThat(rate.remembered()).isLessThanOrEqualTo(OfferRate.KEYS);
    }
}
