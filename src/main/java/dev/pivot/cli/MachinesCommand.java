package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** `pivot machines`: every machine a running Pivot has seen, with its latest boot's state. */
@Command(name = "machines", mixinStandardHelpOptions = true,
        description = "List the machines a running Pivot has seen: address, last boot, what they boot next.")
public final class MachinesCommand implements Callable<Integer> {

    /** Sessions read in one request to find each machine's address; older ones are asked for one by one. */
    private static final int SESSIONS_AT_ONCE = 1000;

    @Mixin
    ServerOptions server = new ServerOptions();

    @Option(names = "--json", description = "print the API's JSON (GET /api/v1/machines) as it is")
    boolean json;

    @Spec
    CommandSpec spec;

    /** "now" for "3 min ago"; tests fix it. */
    Clock clock = Clock.systemUTC();

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        ApiClient api = server.client();
        if (json) {
            out.println(api.getRaw("api/v1/machines"));
            out.flush();
            return ExitCodes.OK;
        }
        JsonNode machines = api.get("api/v1/machines");
        if (machines.isEmpty()) {
            out.println("no machines seen yet");
            out.flush();
            return ExitCodes.OK;
        }
        Map<Long, JsonNode> sessions = new HashMap<>();
        api.get("api/v1/sessions?limit=" + SESSIONS_AT_ONCE).forEach(s -> sessions.put(s.path("id").asLong(), s));
        Instant now = clock.instant();
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("MAC", "IP", "FIRMWARE", "LAST SEEN", "STATE", "STEP", "PROFILE", "GENERATION",
                "LABELS / FAILURE"));
        for (JsonNode m : machines) {
            JsonNode boot = m.path("lastBoot");
            String ip = "-";
            if (boot.isObject()) {
                long id = boot.path("id").asLong();
                JsonNode session = sessions.containsKey(id) ? sessions.get(id) : api.get("api/v1/sessions/" + id);
                ip = lastAddress(session);
            }
            List<String> notes = new ArrayList<>();
            m.path("labels").properties().forEach(e -> notes.add(e.getKey() + "=" + e.getValue().asText()));
            if (boot.path("server").isTextual()) {
                notes.add("via " + boot.path("server").asText()); // servers sharing a store: which one recorded it
            }
            if (boot.path("failure").isObject()) {
                notes.add(boot.path("failure").path("step").asText() + " failed: "
                        + boot.path("failure").path("reason").asText());
            }
            rows.add(List.of(m.path("mac").asText(), ip, m.path("firmware").asText("-"),
                    ago(m.path("lastSeen").asText(), now), boot.path("state").asText("-"),
                    boot.path("step").asText("-"), profile(m.path("profile")), generation(m.path("generation")),
                    String.join("  ", notes)));
        }
        table(rows).forEach(out::println);
        out.flush();
        return ExitCodes.OK;
    }

    /** The address of the session's last event that names one (offered, leased, or a request's source), or "-". */
    static String lastAddress(JsonNode session) {
        String address = "-";
        for (JsonNode e : session.path("events")) {
            if (e.path("address").isTextual()) {
                address = e.path("address").asText();
            }
        }
        return address;
    }

    /** "rescue (assigned once)"; "default" alone when nothing chose it; "-" when the server has no profiles. */
    static String profile(JsonNode p) {
        if (!p.isObject()) {
            return "-";
        }
        String because = p.path("because").asText();
        return p.path("name").asText() + (because.isEmpty() || because.equals("default") ? "" : " (" + because + ")");
    }

    /**
     * "2", or "1 → 2 (reboot needed)" when the machine runs another generation of its profile than its next boot
     * gets; "- → 2" when what it runs is not known; "-" when the server has no generations.
     */
    static String generation(JsonNode g) {
        if (!g.isObject()) {
            return "-";
        }
        String next = g.path("next").asText();
        if (!g.path("running").isInt()) {
            return "- → " + next;
        }
        if (g.path("rebootNeeded").asBoolean()) {
            return g.path("running").asText() + " → " + next + " (reboot needed)";
        }
        return g.path("runningProfile").asText().equals(g.path("profile").asText()) ? next
                : g.path("runningProfile").asText() + "@" + g.path("running").asText() + " → " + next;
    }

    /** "just now", "42 s ago", "3 min ago", "5 h ago", "2 days ago"; the ISO time itself if it does not parse. */
    static String ago(String iso, Instant now) {
        Instant then;
        try {
            then = Instant.parse(iso);
        } catch (DateTimeParseException e) {
            return iso.isEmpty() ? "-" : iso;
        }
        long s = Duration.between(then, now).toSeconds();
        if (s < 5) {
            return "just now"; // also a server clock slightly ahead of this one
        }
        if (s < 60) {
            return s + " s ago";
        }
        if (s < 3600) {
            return s / 60 + " min ago";
        }
        if (s < 48 * 3600) {
            return s / 3600 + " h ago";
        }
        return s / 86400 + " days ago";
    }

    /** Columns as wide as their widest cell, two spaces apart; the last column unpadded. */
    static List<String> table(List<List<String>> rows) {
        int columns = rows.getFirst().size();
        int[] width = new int[columns];
        for (List<String> row : rows) {
            for (int i = 0; i < columns; i++) {
                width[i] = Math.max(width[i], row.get(i).length());
            }
        }
        List<String> lines = new ArrayList<>();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < columns; i++) {
                line.append(i == columns - 1 ? row.get(i) : String.format("%-" + width[i] + "s  ", row.get(i)));
            }
            lines.add(line.toString().stripTrailing());
        }
        return lines;
    }
}
