package dev.pivot.server;

import dev.pivot.history.BootSession;
import dev.pivot.boot.BootEvent;

import java.io.PrintStream;
import java.time.Duration;
import java.time.ZoneId;
import java.util.Locale;

/**
 * Prints each boot event as one line of its machine's timeline: wall clock, machine, seconds since that boot
 * session began, step, and detail. Failures stand out. Sessions are cut by {@link dev.pivot.history.BootSessions},
 * so stage 1's own DHCP does not restart the clock.
 */
public final class TimelinePrinter {

    private static final ZoneId ZONE = ZoneId.systemDefault();

    private final PrintStream out;
    private final LogFormat format;
    private final StringBuilder line = new StringBuilder(160);

    public TimelinePrinter(PrintStream out) {
        this(out, LogFormat.TEXT);
    }

    public TimelinePrinter(PrintStream out, LogFormat format) {
        this.out = out;
        this.format = format;
    }

    /**
     * Prints one event without flushing: under a boot storm a write per line would cost more than the line.
     * The event pipeline calls {@link #flush} whenever it has no more events waiting.
     */
    public synchronized void print(BootSession session, BootEvent e) {
        double since = Duration.between(session.events().getFirst().at(), e.at()).toMillis() / 1000.0;
        line.setLength(0);
        switch (format) {
            case TEXT -> {
                clock(e.at(), line);
                line.append("  ");
            }
            case JOURNAL -> { }
            case JSON -> {
                json(since, e);
                out.println(line);
                return;
            }
        }
        line.append(e.mac()).append("  ").append(step(since, e.step().wire(), e.failed(), e.detail(), e.bytes()));
        out.println(line);
    }

    /** {"time":…,"mac":…,"since":1.2,"step":"kernel","failed":false,"detail":…,"bytes":…}: one event, one line. */
    private void json(double since, BootEvent e) {
        line.append("{\"time\":\"").append(e.at()).append("\",\"mac\":\"").append(e.mac())
                .append("\",\"since\":").append(Math.round(since * 1000) / 1000.0)
                .append(",\"step\":\"").append(e.step().wire()).append("\",\"failed\":").append(e.failed())
                .append(",\"detail\":");
        jsonString(e.detail(), line);
        line.append(",\"bytes\":").append(e.bytes()).append('}');
    }

    /** A JSON string literal: quotes, backslashes and control characters escaped (details quote what clients sent). */
    static void jsonString(String s, StringBuilder b) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /** HH:mm:ss.SSS in the local zone, by hand: a formatter per line costs more than the rest of the line. */
    private static void clock(java.time.Instant at, StringBuilder b) {
        long local = at.getEpochSecond() + ZONE.getRules().getOffset(at).getTotalSeconds();
        int secondOfDay = (int) Math.floorMod(local, 86_400L);
        int millis = at.getNano() / 1_000_000;
        two(b, secondOfDay / 3600).append(':');
        two(b, secondOfDay / 60 % 60).append(':');
        two(b, secondOfDay % 60).append('.');
        b.append((char) ('0' + millis / 100)).append((char) ('0' + millis / 10 % 10)).append((char) ('0' + millis % 10));
    }

    private static StringBuilder two(StringBuilder b, int n) {
        return b.append((char) ('0' + n / 10)).append((char) ('0' + n % 10));
    }

    public synchronized void flush() {
        out.flush();
    }

    /** One step of a timeline: "+ 12.3s  kernel       bzImage  (7.9 MiB)"; shared with `pivot sessions`. */
    public static String step(double since, String step, boolean failed, String detail, long bytes) {
        // By hand rather than String.format: the console timeline prints every event of a boot storm.
        StringBuilder b = new StringBuilder(64 + detail.length());
        long tenths = Math.round(since * 10);
        String seconds = (tenths < 0 ? "-" : "") + Math.abs(tenths) / 10 + "." + Math.abs(tenths) % 10;
        b.append('+').append(" ".repeat(Math.max(0, 6 - seconds.length()))).append(seconds).append("s  ");
        b.append(step).append(" ".repeat(Math.max(0, 12 - step.length()))).append(' ');
        if (failed) {
            b.append("FAILED: ");
        }
        // A detail may quote what a client sent: a line break in it must not start a forged timeline line.
        for (int i = 0; i < detail.length(); i++) {
            char c = detail.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? ' ' : c);
        }
        if (bytes > 0) {
            b.append("  (").append(humanBytes(bytes)).append(')');
        }
        return b.toString();
    }

    public static String humanBytes(long n) {
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
