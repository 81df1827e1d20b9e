package dev.pivot.http;

import dev.pivot.boot.MacAddress;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How many reports one machine may send per minute: stage 1 sends a handful per boot, so a machine (or a stolen
 * secret) sending hundreds is flooding the event log. Remembers at most {@link #MACHINES} machines; past that the
 * memory starts over (a flood of MACs cannot grow it).
 */
final class ReportBudget {

    static final int PER_MINUTE = 60;
    static final int MACHINES = 8192;
    private static final long WINDOW = Duration.ofMinutes(1).toNanos();

    private record Window(long start, int used) { }

    private final ConcurrentHashMap<MacAddress, Window> windows = new ConcurrentHashMap<>();

    /** Takes one report from {@code mac}'s budget; false when this minute's is spent. */
    boolean take(MacAddress mac) {
        return take(mac, 1);
    }

    /** Takes {@code steps} reports' worth at once (one request may carry several steps). */
    boolean take(MacAddress mac, int steps) {
        if (windows.size() >= MACHINES) {
            windows.clear();
        }
        long now = System.nanoTime();
        Window w = windows.compute(mac, (k, old) -> old == null || now - old.start() >= WINDOW
                ? new Window(now, steps) : new Window(old.start(), old.used() + steps));
        return w.used() <= PER_MINUTE;
    }
}
