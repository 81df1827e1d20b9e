package dev.pivot.cli;

import dev.pivot.server.TimelinePrinter;
import com.fasterxml.jackson.databind.JsonNode;
import dev.pivot.boot.MacAddress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** `pivot sessions`: recent boots with their timelines; with --follow, then every new event as it happens. */
@Command(name = "sessions", mixinStandardHelpOptions = true,
        description = "Show recent boot sessions and their timelines from a running Pivot; --follow to watch live.")
public final class SessionsCommand implements Callable<Integer> {

    @Mixin
    ServerOptions server = new ServerOptions();

    @Option(names = "--mac", paramLabel = "MAC", description = "only this machine")
    String mac;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "10", description = "sessions shown; default ${DEFAULT-VALUE}")
    int limit;

    @Option(names = {"-f", "--follow"}, description = "then print each new event as it happens, until stopped")
    boolean follow;

    @Option(names = "--json", description = "print the API's JSON as it is: GET /api/v1/sessions, then with --follow"
            + " each event's JSON on a line of its own")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String onlyMac = mac == null ? null : parseMac(mac);
        ApiClient api = server.client();
        String query = "api/v1/sessions?limit=" + limit
                + (onlyMac == null ? "" : "&mac=" + URLEncoder.encode(onlyMac, StandardCharsets.UTF_8));
        if (json) {
            out.println(api.getRaw(query));
        } else {
            List<JsonNode> sessions = new ArrayList<>();
            api.get(query).forEach(sessions::add);
            for (JsonNode s : sessions.reversed()) { // oldest first, like a log
                out.printf("session %d  %s  %s  %.1f s%s%s%n", s.path("id").asLong(), s.path("mac").asText(),
                        s.path("state").asText(), s.path("seconds").asDouble(),
                        s.path("server").isTextual() ? "  via " + s.path("server").asText() : "",
                        s.path("failure").isObject() ? "  (" + s.path("failure").path("step").asText() + " failed: "
                                + s.path("failure").path("reason").asText() + ")" : "");
                for (JsonNode e : s.path("events")) {
                    out.println("  " + line(e));
                }
            }
            if (sessions.isEmpty() && !follow) {
                out.println(onlyMac == null ? "no boot sessions yet" : "no boot sessions of " + onlyMac);
            }
        }
        out.flush();
        if (follow) {
            api.follow(() -> {
                err.println("following live events (Ctrl-C to stop)");
                err.flush();
            }, text -> {
                JsonNode e;
                try {
                    e = ApiClient.parse(text);
                } catch (IOException bad) {
                    throw new IllegalStateException("event stream: not JSON: " + text);
                }
                if (onlyMac == null || onlyMac.equals(e.path("mac").asText())) {
                    out.println(json ? text : "session " + e.path("session").asLong() + "  "
                            + e.path("mac").asText() + "  " + line(e));
                    out.flush();
                }
            });
            err.println("pivot sessions: the server ended the event stream");
        }
        return ExitCodes.OK;
    }

    private static String parseMac(String text) {
        try {
            return MacAddress.parse(text).toString();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--mac " + text + ": " + e.getMessage());
        }
    }

    /** "+  0.4s  tftp         undionly.kpxe  (68.4 KiB)", as in the server's timeline. */
    static String line(JsonNode e) {
        return TimelinePrinter.step(e.path("sinceStart").asDouble(), e.path("step").asText(),
                e.path("failed").asBoolean(), e.path("detail").asText(), e.path("bytes").asLong());
    }
}
