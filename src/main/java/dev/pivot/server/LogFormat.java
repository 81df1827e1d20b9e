package dev.pivot.server;

import java.util.Map;

/** How `pivot serve` writes its timeline (stdout) and log (stderr). */
public enum LogFormat {
    /** One line per boot step, each with its wall-clock time: for a terminal or a plain log file. */
    TEXT,
    /** As {@link #TEXT} without the time: systemd's journal stamps every line itself. */
    JOURNAL,
    /** One JSON object per line, for log shippers. */
    JSON;

    /**
     * {@code text} (or nothing) is {@link #JOURNAL} when stdout goes to the journal — systemd then sets
     * {@code JOURNAL_STREAM} — else {@link #TEXT}; {@code json} is {@link #JSON}.
     */
    public static LogFormat of(String name, Map<String, String> env) {
        return switch (name == null ? "text" : name) {
            case "text" -> env.containsKey("JOURNAL_STREAM") ? JOURNAL : TEXT;
            case "json" -> JSON;
            default -> throw new IllegalArgumentException("--log-format " + name + ": expected text or json");
        };
    }
}
