package dev.pivot.cli;

import dev.pivot.testsupport.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --server}, {@code --token-file} and {@code --state} through the {@link ServerOptions} mixin: the same
 * options, defaults, environment and errors in every client command.
 */
class ServerOptionsTest {

    private static final String MAC = "52-54-00-12-34-56";

    @TempDir
    Path tmp;

    private static ServerOptions parsed(Map<String, String> env, String... args) {
        MachinesCommand command = new MachinesCommand();
        new CommandLine(command).parseArgs(args);
        command.server.env = env::get;
        return command.server;
    }

    /** A client command run as `pivot` runs it, with {@code env} as its environment. */
    private static CliRun run(Object command, ServerOptions options, Map<String, String> env, String... args) {
        options.env = env::get;
        return CliRun.of(Main.configure(new CommandLine(command)), args);
    }

    @Test
    void serverTakesAUrlOrHostPortAndDefaultsToPivotServerThenLoopbackPort80() {
        assertThat(parsed(Map.of(), "--server", "127.0.0.1:8080").serverUri())
                .isEqualTo(URI.create("http://127.0.0.1:8080/"));
        assertThat(parsed(Map.of(), "--server", "http://10.0.0.1:8080").serverUri())
                .isEqualTo(URI.create("http://10.0.0.1:8080/"));
        assertThat(parsed(Map.of(), "--server", "pivot.lan").serverUri()).isEqualTo(URI.create("http://pivot.lan/"));
        assertThat(parsed(Map.of(), "--server", "[::1]:8080").serverUri()).isEqualTo(URI.create("http://[::1]:8080/"));
        assertThat(parsed(Map.of()).serverUri()).isEqualTo(URI.create("http://127.0.0.1:80/"));
        assertThat(parsed(Map.of("PIVOT_SERVER", "10.0.0.9:8080")).serverUri())
                .isEqualTo(URI.create("http://10.0.0.9:8080/"));
        assertThat(parsed(Map.of("PIVOT_SERVER", "10.0.0.9:8080"), "--server", "10.0.0.1:81").serverUri())
                .as("the flag wins over the environment").isEqualTo(URI.create("http://10.0.0.1:81/"));
    }

    @Test
    void aBadServerIsNamedWithWhereItCameFromAndExits2() {
        MachinesCommand flag = new MachinesCommand();
        CliRun r = run(flag, flag.server, Map.of(), "--server", "ftp://x");
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).isEqualTo("pivot machines: --server ftp://x: expected http://HOST[:PORT] or HOST:PORT\n");

        SessionsCommand env = new SessionsCommand();
        r = run(env, env.server, Map.of("PIVOT_SERVER", "10.0.0.1:99999"));
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).isEqualTo("pivot sessions: PIVOT_SERVER=10.0.0.1:99999: port 99999 is not 1 to 65535\n");
    }

    @Test
    void nothingListeningExits3() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        MachinesCommand command = new MachinesCommand();
        CliRun r = run(command, command.server, Map.of(), "--server", "127.0.0.1:" + port);
        assertThat(r.exit()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err()).startsWith("pivot machines: cannot reach Pivot at http://127.0.0.1:" + port + "/")
                .hasLineCount(1);
    }

    @Test
    void theTokenComesFromTheFileThenTheEnvironmentThenTheServersState() throws IOException {
        Path file = Files.writeString(tmp.resolve("token"), "from-file-0123456789\n");
        Path state = Files.createDirectories(tmp.resolve("state"));
        Files.writeString(state.resolve("api-token"), "from-state-0123456789\n");
        Map<String, String> env = Map.of("PIVOT_TOKEN", "from-env-0123456789");

        assertThat(parsed(env, "--token-file", file.toString(), "--state", state.toString()).token().value())
                .contains("from-file-0123456789");
        assertThat(parsed(env, "--state", state.toString()).token().value()).contains("from-env-0123456789");
        ApiClient.Token fromState = parsed(Map.of(), "--state", state.toString()).token();
        assertThat(fromState.value()).contains("from-state-0123456789");
        assertThat(fromState.source()).isEqualTo(state.resolve("api-token").toString());
    }

    @Test
    void aChangeWithoutATokenNamesEverySourceTriedInOneLine() {
        LabelCommand command = new LabelCommand();
        Path state = tmp.resolve("nothing-here");
        CliRun r = run(command, command.server, Map.of(), "--state", state.toString(), MAC, "rack=r7");
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).isEqualTo("pivot label: no API token: tried --token-file (not given), $PIVOT_TOKEN (not set),"
                + " --state " + state + " (no such directory); give --token-file FILE or set PIVOT_TOKEN\n");

        AssignCommand assign = new AssignCommand(); // the state directory exists, its api-token does not
        r = run(assign, assign.server, Map.of(), "--state", tmp.toString(), MAC, "rescue");
        assertThat(r.err()).contains("tried --token-file (not given), $PIVOT_TOKEN (not set), "
                + tmp.resolve("api-token") + " (no such file)").hasLineCount(1);
    }

    @Test
    void anUnreadableTokenFileIsNamed() {
        AssignCommand command = new AssignCommand();
        Path missing = tmp.resolve("no-token");
        CliRun r = run(command, command.server, Map.of("PIVOT_TOKEN", "would-work-0123456789"),
                "--token-file", missing.toString(), MAC, "--clear");
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).isEqualTo("pivot assign: --token-file " + missing + ": no such file\n");
    }

    @Test
    void everyClientCommandDescribesServerAndTokenAlike() {
        for (Object command : new Object[] {new MachinesCommand(), new SessionsCommand(), new AssignCommand(),
                new LabelCommand()}) {
            String usage = new CommandLine(command).getUsageMessage(CommandLine.Help.Ansi.OFF);

            assertThat(usage).as(usage).contains("[--server=URL]", "[--token-file=FILE]", "[--state=DIR]")
                    .containsPattern("--server=URL +pivot serve's http://HOST\\[:PORT] or HOST:PORT\n"
                            + " +default: \\$PIVOT_SERVER, else http://127\\.0\\.0\\.1:80\n")
                    .containsPattern("--token-file=FILE +the server's API token\n"
                            + " +default: \\$PIVOT_TOKEN, else STATE/api-token\n");
        }
    }
}
