package dev.pivot.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** `--server` through the {@link ServerOptions} mixin: the same option, default and help in every client command. */
class ServerOptionsTest {

    private static final String MAC = "52-54-00-12-34-56";

    @Test
    void machinesParsesServerAndDefaultsToLoopback() {
        MachinesCommand given = new MachinesCommand();
        new CommandLine(given).parseArgs("--server", "http://10.0.0.1:8080");
        MachinesCommand defaulted = new MachinesCommand();
        new CommandLine(defaulted).parseArgs();

        assertThat(given.server.server).isEqualTo("http://10.0.0.1:8080");
        assertThat(defaulted.server.server).isEqualTo("http://127.0.0.1");
    }

    @Test
    void sessionsParsesServerAlongsideItsOwnOptions() {
        SessionsCommand given = new SessionsCommand();
        new CommandLine(given).parseArgs("--mac", MAC, "--server", "http://10.0.0.2", "--limit", "3");
        SessionsCommand defaulted = new SessionsCommand();
        new CommandLine(defaulted).parseArgs();

        assertThat(given.server.server).isEqualTo("http://10.0.0.2");
        assertThat(given.mac).isEqualTo(MAC);
        assertThat(given.limit).isEqualTo(3);
        assertThat(defaulted.server.server).isEqualTo("http://127.0.0.1");
    }

    @Test
    void assignParsesServerAndTokenFile() {
        AssignCommand given = new AssignCommand();
        new CommandLine(given).parseArgs("--server", "http://10.0.0.3:80", "--token-file", "/tmp/token", MAC, "rescue");
        AssignCommand defaulted = new AssignCommand();
        new CommandLine(defaulted).parseArgs(MAC, "--clear");

        assertThat(given.server.server).isEqualTo("http://10.0.0.3:80");
        assertThat(given.tokenFile).isEqualTo(Path.of("/tmp/token"));
        assertThat(given.profile).isEqualTo("rescue");
        assertThat(defaulted.server.server).isEqualTo("http://127.0.0.1");
        assertThat(defaulted.tokenFile).isNull();
    }

    @Test
    void everyCommandDescribesServerAlike() {
        for (Object command : new Object[] {new MachinesCommand(), new SessionsCommand(), new AssignCommand()}) {
            String usage = new CommandLine(command).getUsageMessage(CommandLine.Help.Ansi.OFF);

            assertThat(usage).as(usage).contains("[--server=URL]")
                    .containsPattern("--server=URL +the running pivot serve; default http://127\\.0\\.0\\.1\n");
        }
    }
}
