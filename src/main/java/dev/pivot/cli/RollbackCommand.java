package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Callable;

/** `pivot rollback PROFILE [--to N]`: every machine of the profile boots generation N (or the previous) next. */
@Command(name = "rollback", mixinStandardHelpOptions = true,
        description = "Make an earlier generation the default of PROFILE, for the next boot of every machine.")
public final class RollbackCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "PROFILE")
    String profile;

    @Option(names = "--to", paramLabel = "N", description = "this generation (default: the one before the default)")
    Integer to;

    @Mixin
    ServerOptions server = new ServerOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (to != null && to < 1) {
            throw new IllegalArgumentException("--to " + to + ": not a generation number");
        }
        JsonNode r = server.client().send("POST", "api/v1/profiles/"
                        + URLEncoder.encode(profile, StandardCharsets.UTF_8).replace("+", "%20") + "/rollback",
                to == null ? Map.of() : Map.of("to", to));
        var out = spec.commandLine().getOut();
        out.println("profile " + r.path("profile").asText() + ": generation " + r.path("defaultGeneration").asInt()
                + " is the default for the next boot of every machine"
                + (r.path("rolledBack").asBoolean() ? "" : " (the newest)"));
        out.flush();
        return ExitCodes.OK;
    }
}
