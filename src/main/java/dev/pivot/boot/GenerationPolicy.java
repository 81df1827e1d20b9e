package dev.pivot.boot;

import java.time.Duration;
import java.util.Optional;

/**
 * How generations are kept and offered.
 *
 * @param keep               generations kept per profile (the newest ones), at least 1
 * @param maxAge             older generations are pruned even within {@code keep}; empty: no age limit
 * @param menuTimeoutSeconds how long the boot menu waits before booting the default; 0: no menu
 */
public record GenerationPolicy(int keep, Optional<Duration> maxAge, int menuTimeoutSeconds) {

    public static final GenerationPolicy DEFAULT = new GenerationPolicy(10, Optional.empty(), 5);

    public GenerationPolicy {
        if (keep < 1) {
            throw new IllegalArgumentException("generations to keep: " + keep + ", must be 1 or more");
        }
        if (menuTimeoutSeconds < 0 || menuTimeoutSeconds > 3600) {
            throw new IllegalArgumentException("menu timeout " + menuTimeoutSeconds + " s: must be 0 to 3600");
        }
        maxAge.ifPresent(a -> {
            if (a.isNegative() || a.isZero()) {
                throw new IllegalArgumentException("generation age limit " + a + ": must be positive");
            }
        });
    }
}
