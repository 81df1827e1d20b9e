package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** `pivot machines`: every machine a running Pivot has seen, with its latest boot's state. */
@Command(name = "machines", mixinStandardHelpOptions = true,
        description = "List the machines a running Pivot has seen and how their last boot went.")
public final class MachinesCommand implements Callable<Integer> {

    @Mixin
    ServerOptions server = new ServerOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        JsonNode machines;
        try {
            machines = server.client().get("api/v1/machines");
        } catch (IOException | IllegalArgumentException e) {
            spec.commandLine().getErr().println("pivot machines: " + e.getMessage());
            return 1;
        }
        if (machines.isEmpty()) {
            out.println("no machines seen yet");
            out.flush();
            return 0;
        }
        String format = "%-17s  %-9s  %-24s  %-9s  %-12s  %s%n";
        out.printf(format, "MAC", "FIRMWARE", "LAST SEEN", "STATE", "STEP", "LABELS / FAILURE");
        for (JsonNode m : machines) {
            JsonNode boot = m.path("lastBoot");
            List<String> notes = new ArrayList<>();
            m.path("labels").properties().forEach(e -> notes.add(e.getKey() + "=" + e.getValue().asText()));
            if (boot.path("failure").isObject()) {
                notes.add(boot.path("failure").path("step").asText() + " failed: "
                        + boot.path("failure").path("reason").asText());
            }
            out.printf(format, m.path("mac").asText(), m.path("firmware").asText("-"),
                    m.path("lastSeen").asText(), boot.path("state").asText("-"), boot.path("step").asText("-"),
                    String.join("  ", notes));
        }
        out.flush();
        return 0;
    }
}
