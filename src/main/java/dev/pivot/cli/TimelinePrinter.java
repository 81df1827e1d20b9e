package dev.pivot.cli;

import dev.pivot.boot.BootSession;
import dev.pivot.events.BootEvent;

import java.io.PrintStream;
import java.time.Duration;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * Prints each boot event as one line of its machine's timeline: wall clock, machine, seconds since that boot
 * session began, step, and detail. Failures stand out. Sessions are cut by {@link dev.pivot.boot.BootSessions},
 * so stage 1's own DHCP does not restart the clock.
 */
public final class TimelinePrinter {

    private static final DateTimeFormatter CLOCK =
            DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    private final PrintStream out;

    public TimelinePrinter(PrintStream out) {
        this.out = out;
    }

    public synchronized void print(BootSession session, BootEvent e) {
        double since = Duration.between(session.events().getFirst().at(), e.at()).toMillis() / 1000.0;
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
