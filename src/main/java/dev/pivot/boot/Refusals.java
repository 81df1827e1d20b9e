package dev.pivot.boot;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What every protocol refuses for being over a limit or unauthenticated: counted per kind (exported as the
 * {@code pivot_refused_total} metric) and logged at most once per interval per kind and source, so a flood of
 * refusals costs a counter increment each and never a log line each.
 */
public final class Refusals {

    private static final Logger log = LoggerFactory.getLogger(Refusals.class);
    /** Sources remembered for the log's rate limit; past this the memory is forgotten at once (a flood of them). */
    private static final int MAX_REMEMBERED = 4096;

    private final Duration interval;
    private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
    private final Map<String, Long> lastLogged = new ConcurrentHashMap<>();

    public Refusals(Duration interval) {
        this.interval = interval;
    }

    /** One line a minute per kind and source. */
    public Refusals() {
        this(Duration.ofMinutes(1));
    }

    /**
     * Counts one refusal of {@code kind} (a short fixed name: "tftp_per_source", "report_unauthenticated") from
     * {@code source}, and logs {@code why} unless this kind and source were logged within the interval.
     */
    public void refuse(String kind, Object source, String why) {
        counts.computeIfAbsent(kind, k -> new LongAdder()).increment();
        String key = kind + " " + source;
        long now = System.nanoTime();
        Long last = lastLogged.get(key);
        if (last != null && now - last < interval.toNanos()) {
            return;
        }
        if (lastLogged.size() >= MAX_REMEMBERED) {
            lastLogged.clear();
        }
        lastLogged.put(key, now);
        log.warn("refused ({}) from {}: {} (logged once per {} s per source; pivot_refused_total counts all)", kind,
                source, why, interval.toSeconds());
    }

    /** Refusals so far, by kind. */
    public Map<String, Long> counts() {
        Map<String, Long> out = new TreeMap<>();
        counts.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    public long count(String kind) {
        LongAdder a = counts.get(kind);
        return a == null ? 0 : a.sum();
    }
}
