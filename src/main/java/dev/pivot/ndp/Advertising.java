package dev.pivot.ndp;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * When Pivot answers a router solicitation: only while no real IPv6 router has been heard on the link, after the
 * random delay RFC 4861 §6.2.6 asks of routers (so a real router that answers the same solicitation is heard
 * first, and Pivot then stays silent), and at most once per {@link #MIN_INTERVAL} however many hosts solicit
 * (one multicast advertisement answers every host that asked meanwhile). Pure: the caller supplies the time.
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
        Instant at = now.plusMillis(Math.clamp(randomMillis.getAsLong(), 0, MAX_DELAY.toMillis()));
        if (lastSentAt != null && at.isBefore(lastSentAt.plus(MIN_INTERVAL))) {
            at = lastSentAt.plus(MIN_INTERVAL);
        }
        pendingAt = at;
        return Optional.of(at);
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
