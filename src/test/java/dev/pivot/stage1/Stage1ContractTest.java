package dev.pivot.stage1;

import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The contract against the two things that cannot import it: the prelude's init script and the README. */
class Stage1ContractTest {

    /**
     * {@code arg NAME} and {@code arg_into VAR NAME} read a value, {@code flag NAME} tests presence (the init
     * script's helpers).
     */
    private static final Pattern PARSED = Pattern.compile("\\b(arg|arg_into \\w+|flag) (pivot\\.[A-Za-z0-9_.]+)");
    /** {@code report STEP ...} and {@code fail STEP ...} with a literal step. */
    private static final Pattern REPORTED = Pattern.compile(
            // fail STEP "reason", and every STEP ok|failed "detail" triple given to report, later or reach_server
            "\\bfail ([a-z][a-z0-9_]*) \"|\\b([a-z][a-z0-9_]*) (?:ok|failed) \"");

    @Test
    void everyParameterTheInitScriptParsesIsInTheContractAndTheOtherWayRound() throws IOException {
        String init = initScript();
        Set<String> values = new TreeSet<>();
        Set<String> flags = new TreeSet<>();
        Matcher m = PARSED.matcher(init);
        while (m.find()) {
            (m.group(1).equals("flag") ? flags : values).add(m.group(2));
        }
        assertThat(values).as("parameters the init script reads a value of")
                .isEqualTo(names(Stage1Contract.PARAMETERS.stream().filter(p -> !p.flag()).toList()));
        assertThat(flags).as("parameters the init script tests for")
                .isEqualTo(names(Stage1Contract.PARAMETERS.stream().filter(Stage1Contract.Parameter::flag).toList()));
        assertThat(init).contains("arg_into INIT " + Stage1Contract.INIT + ";")
                .contains("arg_into MODE " + Stage1Contract.MODE.name() + "\n")
                .contains("\"$MODE\" = " + Stage1Contract.LAYOUT_MODE);
    }

    @Test
    void theInitScriptReportsTheContractsStepsAndUsesItsPaths() throws IOException {
        String init = initScript();
        Set<String> steps = new TreeSet<>();
        Matcher m = REPORTED.matcher(init);
        while (m.find()) {
            steps.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        assertThat(steps).isEqualTo(Stage1Contract.REPORTED_STEPS.stream().map(Step::wire)
                .collect(Collectors.toCollection(TreeSet::new)));
        assertThat(init).startsWith("#!/" + Stage1Contract.BUSYBOX_FILE + " sh\n")
                .contains("rdinit=" + Stage1Contract.RDINIT)
                .contains("/" + Stage1Contract.MODULE_DIR + "/$KVER")
                .contains("-s /" + Stage1Contract.UDHCPC_SCRIPT_FILE)
                .contains("OUT=/" + Stage1Contract.ROOT_IMAGE_FILE);
    }

    /** A "(default N)" the contract (and so the README) states is the default the init script falls back to. */
    @Test
    void theDefaultsTheContractStatesAreTheInitScripts() throws IOException {
        String init = initScript();
        Pattern stated = Pattern.compile("\\(default (\\d+)\\)");
        int checked = 0;
        for (Stage1Contract.Parameter p : Stage1Contract.PARAMETERS) {
            Matcher d = stated.matcher(p.meaning());
            if (d.find()) {
                // arg_into VAR NAME; VAR="${VAR:-N}"
                Matcher read = Pattern.compile("arg_into (\\w+) " + Pattern.quote(p.name()) + ";").matcher(init);
                assertThat(read.find()).as("the init script reads %s into a variable", p.name()).isTrue();
                assertThat(init).as("%s defaults to %s", p.name(), d.group(1))
                        .contains(read.group(1) + "=\"${" + read.group(1) + ":-" + d.group(1) + "}\"");
                checked++;
            }
        }
        assertThat(checked).as("parameters with a stated default").isEqualTo(2);
    }

    @Test
    void theReadmeTableListsEveryParameterAsTheContractDefinesIt() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        assertThat(readme).contains("| `" + Stage1Contract.rdinit(Stage1Contract.RDINIT) + "` |")
                .contains("| `" + Stage1Contract.INIT + "=PATH` |");
        for (Stage1Contract.Parameter p : Stage1Contract.PARAMETERS) {
            assertThat(readme).as("README row for " + p.name())
                    .contains("| `" + p.usage() + "` | " + p.meaning() + " |\n");
        }
    }

    @Test
    void parametersAreWordsOfTheirOwn() {
        assertThat(Stage1Contract.URL.is("http://10.0.0.1")).isEqualTo("pivot.url=http://10.0.0.1");
        assertThat(Stage1Contract.SHELL.usage()).isEqualTo("pivot.shell");
        assertThat(Stage1Contract.parameter("pivot.size")).contains(Stage1Contract.SIZE);
        assertThat(Stage1Contract.parameter("pivot.nothing")).isEmpty();
        assertThat(names(Stage1Contract.PARAMETERS)).allMatch(n -> n.startsWith("pivot.")).hasSize(
                Stage1Contract.PARAMETERS.size());
    }

    private static Set<String> names(java.util.List<Stage1Contract.Parameter> parameters) {
        return parameters.stream().map(Stage1Contract.Parameter::name).collect(Collectors.toCollection(TreeSet::new));
    }

    private static String initScript() throws IOException {
        try (InputStream in = Stage1ContractTest.class.getResourceAsStream(Prelude.INIT_RESOURCE)) {
            assertThat(in).as(Prelude.INIT_RESOURCE).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
