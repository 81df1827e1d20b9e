package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Refusals;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Who gets an offer under abuse, decided before any address is picked: a DISCOVER flood of made-up MACs (or one
 * machine stuck in a DISCOVER loop) costs a counter each, never a pool entry, a boot record or a log line each.
 *
 * <ul>
 *   <li>known machines only (optional): a MAC Pivot has no record, assignment or group answer for gets nothing;</li>
 *   <li>per MAC: at most {@link Limits#perMacPerMinute} offers a minute (a boot sends a dozen DISCOVERs at most:
 *       PXE ROM, iPXE, stage 1 and the booted system each a few);</li>
 *   <li>per source (the relay, else the sender's address, else the local segment): at most
 *       {@link Limits#perSourcePerSecond} offers a second to machines that never had a lease here. Machines with a
 *       lease, current or expired, are not counted against their source: a flood cannot keep them from renewing or
 *       coming back.</li>
 * </ul>
 */
public final class OfferGuard {

    /**
     * @param perMacPerMinute     offers to one MAC per minute
     * @param perSourcePerSecond  offers per second to machines without a lease, per relay or sender
     * @param knownOnly           answer only machines Pivot knows (a machine record, an assignment, a group)
     */
    public record Limits(int perMacPerMinute, int perSourcePerSecond, boolean knownOnly) {

        /** A rack of a few thousand machines powered on at once through one relay gets its offers in seconds. */
        public static final Limits DEFAULTS = new Limits(60, 1000, false);

        public Limits {
            if (perMacPerMinute < 1 || perSourcePerSecond < 1) {
                throw new IllegalArgumentException("DHCP offer limits must be at least 1 (per MAC " + perMacPerMinute
                        + ", per source " + perSourcePerSecond + ")");
            }
        }
    }

    /** The answer for one DISCOVER, and the {@link Refusals} kind when it is no. */
    public enum Verdict {
        OFFER(null), UNKNOWN_MACHINE("dhcp_unknown_machine"), PER_MAC("dhcp_offers_per_mac"),
        PER_SOURCE("dhcp_offers_per_source");

        private final String kind;

        Verdict(String kind) {
            this.kind = kind;
        }

        public String kind() {
            return kind;
        }
    }

    private final Limits limits;
    private final Predicate<MacAddress> known;
    private final Refusals refusals;
    private final OfferRate<MacAddress> perMac;
    private final OfferRate<String> perSource;

    /** @param known whether Pivot knows a machine; asked only in known-only mode */
    public OfferGuard(Limits limits, Predicate<MacAddress> known, Refusals refusals) {
        this(limits, known, refusals, System::nanoTime);
    }

    OfferGuard(Limits limits, Predicate<MacAddress> known, Refusals refusals, LongSupplier nanos) {
        this.limits = limits;
        this.known = known;
        this.refusals = refusals;
        this.perMac = new OfferRate<>(limits.perMacPerMinute(), Duration.ofMinutes(1), nanos);
        this.perSource = new OfferRate<>(limits.perSourcePerSecond(), Duration.ofSeconds(1), nanos);
    }

    /** No limits beyond the defaults, every machine answered (unit tests, the DHCP benchmark's own main). */
    public static OfferGuard defaults() {
        return new OfferGuard(Limits.DEFAULTS, mac -> true, new Refusals());
    }

    public Limits limits() {
        return limits;
    }

    /**
     * Whether {@code mac} may get an offer now; a no is counted and logged once a minute per kind and source.
     *
     * @param hadLease the machine holds (or held) a lease here, or has a reservation
     */
    public Verdict check(MacAddress mac, Inet4Address giaddr, InetSocketAddress sender, boolean hadLease) {
        String source = sourceOf(giaddr, sender);
        Verdict v = decide(mac, source, hadLease);
        if (v != Verdict.OFFER) {
            refusals.refuse(v.kind(), v == Verdict.PER_SOURCE ? source : mac, switch (v) {
                case UNKNOWN_MACHINE -> "DHCP answers known machines only (--dhcp-known-only): " + mac
                        + " has no machine record, assignment or group";
                case PER_MAC -> mac + " asked for more than " + limits.perMacPerMinute() + " offers a minute";
                case PER_SOURCE -> "more than " + limits.perSourcePerSecond() + " offers a second to machines"
                        + " without a lease";
                case OFFER -> "";
            });
        }
        return v;
    }

    private Verdict decide(MacAddress mac, String source, boolean hadLease) {
        // Known-only first: an unknown MAC must not spend the budget a known machine from the same source needs.
        if (limits.knownOnly() && !hadLease && !known.test(mac)) {
            return Verdict.UNKNOWN_MACHINE;
        }
        if (!perMac.take(mac)) {
            return Verdict.PER_MAC;
        }
        if (!hadLease && !perSource.take(source)) {
            return Verdict.PER_SOURCE;
        }
        return Verdict.OFFER;
    }

    /** A relay's address, else the sender's, else "this segment" (broadcasts from 0.0.0.0 are indistinguishable). */
    static String sourceOf(Inet4Address giaddr, InetSocketAddress sender) {
        if (!giaddr.isAnyLocalAddress()) {
            return "relay " + giaddr.getHostAddress();
        }
        if (sender != null && sender.getAddress() != null && !sender.getAddress().isAnyLocalAddress()) {
            return sender.getAddress().getHostAddress();
        }
        return "the local segment";
    }
}
