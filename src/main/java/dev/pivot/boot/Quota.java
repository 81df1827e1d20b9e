package dev.pivot.boot;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Concurrent uses of one resource (TFTP transfers, HTTP connections, artifact streams), bounded in total and per
 * source. A source's counter exists only while it holds a use, so the map never holds more entries than the
 * total limit.
 */
public final class Quota<K> {

    private final int total;
    private final int perSource;
    private final AtomicInteger inUse = new AtomicInteger();
    private final ConcurrentHashMap<K, AtomicInteger> bySource = new ConcurrentHashMap<>();

    public Quota(int total, int perSource) {
        if (total < 1 || perSource < 1) {
            throw new IllegalArgumentException("limits must be at least 1 (total " + total + ", per source "
                    + perSource + ")");
        }
        this.total = total;
        this.perSource = perSource;
    }

    /** Why {@link #tryAcquire} said no. */
    public enum Verdict { GRANTED, TOTAL, PER_SOURCE }

    /** Takes one use for {@code source} unless a limit is reached; a granted use must be {@link #release}d. */
    public Verdict tryAcquire(K source) {
        if (inUse.incrementAndGet() > total) {
            inUse.decrementAndGet();
            return Verdict.TOTAL;
        }
        boolean[] granted = {false};
        bySource.compute(source, (k, n) -> {
            AtomicInteger c = n == null ? new AtomicInteger() : n;
            if (c.get() < perSource) {
                c.incrementAndGet();
                granted[0] = true;
            }
            return c.get() == 0 ? null : c;
        });
        if (!granted[0]) {
            inUse.decrementAndGet();
            return Verdict.PER_SOURCE;
        }
        return Verdict.GRANTED;
    }

    public void release(K source) {
        bySource.computeIfPresent(source, (k, c) -> c.decrementAndGet() <= 0 ? null : c);
        inUse.decrementAndGet();
    }

    public int inUse() {
        return inUse.get();
    }

    public int inUse(K source) {
        AtomicInteger c = bySource.get(source);
        return c == null ? 0 : c.get();
    }

    public int total() {
        return total;
    }

    public int perSource() {
        return perSource;
    }
}
