package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pivot.boot.MacAddress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** `pivot label MAC key=value … [key=]`: sets and removes a machine's labels (what profiles' groups select on). */
@Command(name = "label", mixinStandardHelpOptions = true,
        description = "Set a machine's labels (key=value), or remove them (key=); profiles' groups select by labels.")
public final class LabelCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MAC", converter = MacArgument.class)
    MacAddress mac;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "KEY=VALUE",
            description = "a label to set, or KEY= to remove it")
    List<String> labels = new ArrayList<>();

    @Mixin
    ServerOptions server = new ServerOptions();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        String m = mac.toString();
        Map<String, String> changes = parse(labels); // all checked before the first is sent
        ApiClient api = server.client();
        JsonNode machine = null;
        for (var change : changes.entrySet()) {
            String path = "api/v1/machines/" + m + "/labels/" + change.getKey();
            machine = change.getValue().isEmpty() ? api.send("DELETE", path, null)
                    : api.sendText("PUT", path, change.getValue());
        }
        List<String> now = new ArrayList<>();
        machine.path("labels").properties().forEach(e -> now.add(e.getKey() + "=" + e.getValue().asText()));
        now.sort(null);
        var out = spec.commandLine().getOut();
        out.println(m + (now.isEmpty() ? ": no labels" : "  " + String.join("  ", now)));
        out.flush();
        return ExitCodes.OK;
    }

    /** KEY=VALUE (split at the first '='; the value may hold more) or KEY= for a removal, in the order given. */
    static Map<String, String> parse(List<String> args) {
        Map<String, String> changes = new LinkedHashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("'" + arg + "': expected KEY=VALUE, or KEY= to remove the label");
            }
            String key = arg.substring(0, eq);
            if (key.isBlank()) {
                throw new IllegalArgumentException("'" + arg + "': the label has no name (expected KEY=VALUE)");
            }
            // The name travels as a path segment that the API takes literally (it does not percent-decode it):
            // only characters that need no encoding arrive as typed.
            if (!key.matches("[A-Za-z0-9._:-]{1,100}")) {
                throw new IllegalArgumentException("'" + arg + "': a label name is 1 to 100 letters, digits, '.', '_',"
                        + " ':' or '-'");
            }
            changes.put(key, arg.substring(eq + 1).strip());
        }
        return changes;
    }
}
