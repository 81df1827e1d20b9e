package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pivot.boot.MacAddress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * `pivot assign MAC PROFILE[@N] [--once]` / `pivot assign MAC --clear`: what a machine boots next, PROFILE@N pinning
 * it to generation N of the profile.
 */
@Command(name = "assign", mixinStandardHelpOptions = true,
        description = "Make a machine boot PROFILE (from --profiles of pivot serve), or its generation N with"
                + " PROFILE@N, for good or --once.")
public final class AssignCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MAC", converter = MacArgument.class)
    MacAddress mac;

    @Parameters(index = "1", paramLabel = "PROFILE[@N]", arity = "0..1")
    String profile;

    @Option(names = "--once", description = "only for the next boot that reaches stage 2")
    boolean once;

    @Option(names = "--clear", description = "remove the machine's assignment (back to its group or the default)")
    boolean clear;

    @Mixin
    ServerOptions server = new ServerOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        var out = spec.commandLine().getOut();
        String m = mac.toString();
        if (clear == (profile != null)) {
            throw new IllegalArgumentException("give a PROFILE, or --clear (not both)");
        }
        ApiClient api = server.client();
        String path = "api/v1/machines/" + m + "/assignment";
        if (clear) {
            JsonNode r = api.send("DELETE", path, null);
            out.println(r.path("removed").asBoolean() ? m + ": assignment removed" : m + ": had no assignment");
        } else {
            Map<String, Object> body = new java.util.LinkedHashMap<>();
            int at = profile.lastIndexOf('@');
            if (at >= 0) {
                String n = profile.substring(at + 1);
                if (!n.matches("[1-9][0-9]{0,8}")) {
                    throw new IllegalArgumentException("PROFILE@N " + profile + ": N must be a generation number");
                }
                body.put("profile", profile.substring(0, at));
                body.put("generation", Integer.parseInt(n));
            } else {
                body.put("profile", profile);
            }
            body.put("once", once);
            JsonNode r = api.send("PUT", path, body);
            out.println(r.path("mac").asText() + " → " + r.path("profile").asText()
                    + (r.path("generation").isInt() ? "@" + r.path("generation").asInt() : "")
                    + (r.path("once").asBoolean() ? " (once: until its next boot reaches stage 2)" : ""));
        }
        out.flush();
        return ExitCodes.OK;
    }
}
