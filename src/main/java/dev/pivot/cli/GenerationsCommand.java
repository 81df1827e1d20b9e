package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** `pivot generations [PROFILE]`: each profile's builds, newest first, and which one machines boot by default. */
@Command(name = "generations", mixinStandardHelpOptions = true,
        description = "List each profile's generations (its builds), newest first: version, build date, machines.")
public final class GenerationsCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "PROFILE", arity = "0..1", description = "only this profile")
    String profile;

    @Option(names = "--json", description = "print the API's JSON (GET /api/v1/generations) as it is")
    boolean json;

    @Mixin
    ServerOptions server = new ServerOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        ApiClient api = server.client();
        String path = "api/v1/generations" + (profile == null ? ""
                : "?profile=" + URLEncoder.encode(profile, StandardCharsets.UTF_8));
        if (json) {
            out.println(api.getRaw(path));
            out.flush();
            return ExitCodes.OK;
        }
        JsonNode profiles = api.get(path);
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("PROFILE", "GEN", "", "VERSION", "BUILT", "MACHINES", "SOURCE"));
        for (JsonNode p : profiles) {
            for (JsonNode g : p.path("generations")) {
                String mark = g.path("isDefault").asBoolean()
                        ? (p.path("rolledBack").asBoolean() ? "default (rolled back)" : "default") : "";
                rows.add(List.of(p.path("profile").asText(), g.path("number").asText(), mark,
                        g.path("version").asText().isEmpty() ? "-" : g.path("version").asText(),
                        g.path("built").asText().replace('T', ' ').replaceFirst(":\\d\\d(\\.\\d+)?Z$", " UTC"),
                        g.path("machines").asText(), g.path("source").asText()));
            }
        }
        if (rows.size() == 1) {
            out.println("no generations");
        } else {
            MachinesCommand.table(rows).forEach(out::println);
        }
        out.flush();
        return ExitCodes.OK;
    }
}
