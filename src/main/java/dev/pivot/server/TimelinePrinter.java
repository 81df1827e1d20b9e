package dev.pivot.server;

import dev.pivot.history.BootSession;
import dev.pivot.boot.BootEvent;

import java.io.PrintStream;
import java.time.Duration;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Prints each boot event as one line of its machine's timeline: wall clock, machine, seconds since that boot
 * session began, step, and detail. Failures stand out. Sessions are cut by {@link dev.pivot.history.BootSessions},
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
        out.println(CLOCK.format(e.at()) + "  " + e.mac() + "  " + step(since, e.step().wire(), e.failed(), e.detail(),
                e.bytes()));
        out.flush();
    }

    /** One step of a timeline: "+ 12.3s  kernel       bzImage  (7.9 MiB)"; shared with `pivot sessions`. */
    public static String step(double since, String step, boolean failed, String detail, long bytes) {
        return String.format(Locale.ROOT, "+%6.1fs  %-12s %s%s%s", since, step, failed ? "FAILED: " : "", detail,
                bytes > 0 ? "  (" + humanBytes(bytes) + ")" : "");
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
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
