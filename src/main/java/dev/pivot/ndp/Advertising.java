package dev.pivot.ndp;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * When Pivot answers a router solicitation: only while no real IPv6 router has been heard on the link, and at most
 * once per {@link #MIN_INTERVAL} however many hosts solicit (one multicast advertisement answers every host that
 * asked meanwhile). Pure: the caller supplies the time.
 *
 * <p>Until Pivot knows the link has no router, an answer waits the random delay RFC 4861 §6.2.6 asks of routers,
 * so a real router answering the same solicitation is heard first and Pivot then stays silent. Pivot knows once its
 * own solicitation has gone unanswered for that delay ({@link #probed}): a router on the link would have answered
 * it, and one that comes up later announces itself unsolicited. From then on the answer goes out at once, because
 * every booting machine waits for it (iPXE fetches nothing before its IPv6 configuration ends). Only Pivot's own
 * solicitation counts: a router may answer a host's solicitation by unicast, which Pivot does not hear.
 */
final class Advertising {

    /** RFC 4861 MAX_RA_DELAY_TIME: an answer waits a random 0..500 ms. */
    static final Duration MAX_DELAY = Duration.ofMillis(500);
    /** Bounds what a flood of solicitations can make Pivot send. */
    static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
    /**
     * How long a real router's advertisement keeps Pivot silent. Routers advertise unsolicited at least every
     * 1800 s (RFC 4861 MaxRtrAdvInterval's upper bound), so a router that is still there is heard again well
     * within this.
     */
    static final Duration QUIET_AFTER_ROUTER = Duration.ofHours(1);

    private final LongSupplier randomMillis;
    private Instant routerHeardAt;
    private Instant pendingAt;
    private Instant lastSentAt;
    private Instant probedAt;

    /** @param randomMillis a random number in 0..{@link #MAX_DELAY} ms for each answer */
    Advertising(LongSupplier randomMillis) {
        this.randomMillis = randomMillis;
    }

    /** A host solicited: returns when to send the answer, or empty when Pivot stays silent (or one is pending). */
    synchronized Optional<Instant> solicited(Instant now) {
        if (routerPresent(now)) {
            return Optional.empty();
        }
        if (pendingAt != null) {
            return Optional.empty();
        }
        Instant at = knownRouterFree(now) ? now
                : now.plusMillis(Math.clamp(randomMillis.getAsLong(), 0, MAX_DELAY.toMillis()));
        if (lastSentAt != null && at.isBefore(lastSentAt.plus(MIN_INTERVAL))) {
            at = lastSentAt.plus(MIN_INTERVAL);
        }
        pendingAt = at;
        return Optional.of(at);
    }

    /** Pivot's own router solicitation went out at {@code at} (only the first one matters). */
    synchronized void probed(Instant at) {
        if (probedAt == null) {
            probedAt = at;
        }
    }

    /** Whether Pivot has solicited itself and no router answered within {@link #MAX_DELAY}. */
    synchronized boolean knownRouterFree(Instant now) {
        return probedAt != null && !now.isBefore(probedAt.plus(MAX_DELAY)) && !routerPresent(now);
    }

    /** Someone advertised; a real router (one that configures hosts) silences Pivot for a while. */
    synchronized void heard(NdpMessage.RouterAdvertisement ra, Instant now) {
        if (ra.configuresHosts()) {
            routerHeardAt = now;
        }
    }

    /** The pending answer is due: true when it is still to be sent (no router was heard meanwhile). */
    synchronized boolean due(Instant now) {
        pendingAt = null;
        if (routerPresent(now)) {
            return false;
        }
        lastSentAt = now;
        return true;
    }

    synchronized boolean routerPresent(Instant now) {
        return routerHeardAt != null && Duration.between(routerHeardAt, now).compareTo(QUIET_AFTER_ROUTER) < 0;
    }
}
