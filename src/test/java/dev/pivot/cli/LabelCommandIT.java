package dev.pivot.cli;

import dev.pivot.api.ApiServer;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
import dev.pivot.testsupport.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static dev.pivot.cli.MachinesSessionsCommandIT.run;
import static org.assertj.core.api.Assertions.assertThat;

/** `pivot label MAC KEY=VALUE … KEY=` sets and removes labels through the API. */
class LabelCommandIT {

    static final MacAddress MAC = MacAddress.parse("52:54:00:1a:00:01");

    @TempDir
    Path dir;

    @Test
    void labelsAreSetAndRemovedAndMistakesAreNamed() throws Exception {
        try (ApiServer server = new ApiServer(dir)) {
            server.emit(BootEvent.ok(MAC, Step.TFTP, "undionly.kpxe", 0)); // past DHCP: a machine record
            String token = server.tokenFile.toString();

            CliRun set = run(new LabelCommand(), "--server", server.base, "--token-file", token, MAC.toString(),
                    "rack=r7", "room=lab 2", "build.date=2026-11");
            assertThat(set.exit()).as(set.err()).isZero();
            assertThat(set.out()).isEqualTo(MAC + "  build.date=2026-11  rack=r7  room=lab 2\n");
            assertThat(server.store.machine(MAC).orElseThrow().labels()).containsEntry("build.date", "2026-11");

            CliRun removed = run(new LabelCommand(), "--server", server.base, "--token-file", token,
                    "52-54-00-1A-00-01", "room=", "build.date=");
            assertThat(removed.exit()).as(removed.err()).isZero();
            assertThat(removed.out()).isEqualTo(MAC + "  rack=r7\n");

            CliRun unseen = run(new LabelCommand(), "--server", server.base, "--token-file", token,
                    "52:54:00:1a:00:99", "rack=r7");
            assertThat(unseen.exit()).isEqualTo(ExitCodes.USAGE);
            assertThat(unseen.err()).isEqualTo("pivot label: no machine 52:54:00:1a:00:99 seen\n");

            CliRun bad = run(new LabelCommand(), "--server", server.base, "--token-file", token, MAC.toString(),
                    "rack=r8", "rack");
            assertThat(bad.exit()).isEqualTo(ExitCodes.USAGE);
            assertThat(bad.err()).isEqualTo("pivot label: 'rack': expected KEY=VALUE, or KEY= to remove the label\n");
            assertThat(server.store.machine(MAC).orElseThrow().labels()).as("nothing sent")
                    .containsEntry("rack", "r7");

            assertThat(run(new LabelCommand(), "--server", server.base, MAC.toString()).err())
                    .contains("Missing required parameter: 'KEY=VALUE'").hasLineCount(1);
        }
    }
}
