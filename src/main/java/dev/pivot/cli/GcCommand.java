package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.util.concurrent.Callable;

/**
 * `pivot gc [--older-than DAYS]`: asks the running server to remove the artifacts none of its profiles,
 * generations or its served image uses, and that were not imported for DAYS days. Only the server knows what is in
 * use, so this goes through its API (with the token, as every change).
 */
@Command(name = "gc", mixinStandardHelpOptions = true,
        description = "Remove stored artifacts that nothing the server serves uses.")
final class GcCommand implements Callable<Integer> {

    @Option(names = "--older-than", paramLabel = "DAYS", defaultValue = "7",
            description = "keep what was imported within DAYS days (a machine may still run it); default ${DEFAULT-VALUE}")
    int olderThanDays;

    @Mixin
    ServerOptions server = new ServerOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (olderThanDays < 0) {
            throw new IllegalArgumentException("--older-than " + olderThanDays + ": expected days, 0 or more");
        }
        JsonNode r = server.client().sendText("POST", "api/v1/artifacts/gc?older-than-days=" + olderThanDays, "");
        spec.commandLine().getOut().printf("pivot gc: removed %d artifacts (%s), kept %d%n", r.path("removed").asInt(),
                dev.pivot.server.TimelinePrinter.humanBytes(r.path("bytes").asLong()), r.path("kept").asInt());
        return ExitCodes.OK;
    }
}
