package dev.pivot.dhcp;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * At most {@code limit} offers per key (a MAC, a relay, a source address) in each window. Remembers at most
 * {@link #KEYS} keys; past that the memory starts over, so a flood of made-up MACs or spoofed sources cannot grow it
 * (and gains nothing: each of its keys is new anyway).
 */
final class OfferRate<K> {

    static final int KEYS = 16_384;

    private record Window(long start, int used) {
    }

    private final int limit;
    private final long window;
    private final LongSupplier nanos;
    private final ConcurrentHashMap<K, Window> windows = new ConcurrentHashMap<>();

    OfferRate(int limit, Duration window, LongSupplier nanos) {
        if (limit < 1) {
            throw new IllegalArgumentException("an offer rate must allow at least 1 (got " + limit + ")");
        }
        this.limit = limit;
        this.window = window.toNanos();
        this.nanos = nanos;
    }

    /** Takes one offer from {@code key}'s budget; false when this window's is spent. */
    boolean take(K key) {
        if (windows.size() >= KEYS) {
            windows.clear();
        }
        long now = nanos.getAsLong();
        Window w = windows.compute(key, (k, old) -> old == null || now - old.start() >= window
                ? new Window(now, 1) : new Window(old.start(), Math.min(old.used() + 1, Integer.MAX_VALUE - 1)));
        return w.used() <= limit;
    }

    int remembered() {
        return windows.size();
    }
}
