package dev.pivot.events;

import dev.pivot.boot.MacAddress;

import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Map;

/**
 * Prints each boot event as one line of its machine's timeline: wall clock, machine, seconds since that
 * machine's boot began (its first DHCP event, or first event seen), step, and detail. Failures stand out.
 */
public final class TimelinePrinter implements EventSink {

    private static final DateTimeFormatter CLOCK =
            DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    private final PrintStream out;
    private final Map<MacAddress, Instant> bootStarted = new HashMap<>();
    private final Map<MacAddress, Step> lastStep = new HashMap<>();

    public TimelinePrinter(PrintStream out) {
        this.out = out;
    }

    @Override
    public synchronized void emit(BootEvent e) {
        Step previous = lastStep.put(e.mac(), e.step());
        boolean restart = e.step() == Step.DHCP && previous != null && previous != Step.DHCP
                && previous.ordinal() > Step.DHCP.ordinal();
        if (restart || !bootStarted.containsKey(e.mac())) {
            bootStarted.put(e.mac(), e.at());
        }
        double since = Duration.between(bootStarted.get(e.mac()), e.at()).toMillis() / 1000.0;
        String bytes = e.bytes() > 0 ? "  (" + humanBytes(e.bytes()) + ")" : "";
        out.printf("%s  %s  +%6.1fs  %-12s %s%s%s%n", CLOCK.format(e.at()), e.mac(), since, e.step().wire(),
                e.failed() ? "FAILED: " : "", e.detail(), bytes);
        out.flush();
    }

    static String humanBytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }
}
