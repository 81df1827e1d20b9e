package dev.pivot.cli;

import dev.pivot.testsupport.CliRun;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** One table of exit codes for every command, shown in the help and in README.md; a bad command line is one line. */
class MainTest {

    @Test
    void theHelpEndsWithTheExitCodes() {
        for (String[] args : new String[][] {{"--help"}, {"serve", "--help"}, {"machines", "--help"}}) {
            CliRun r = CliRun.of(Main.commandLine(), args);
            assertThat(r.exit()).isZero();
            assertThat(r.out()).as(String.join(" ", args)).containsPattern(
                    "Exit codes:\n +0 +ok\n +1 +runtime failure.*\n +2 +usage or input error.*\n"
                            + " +3 +server unreachable.*\n$");
        }
    }

    @Test
    void theReadmeShowsTheSameTable() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        ExitCodes.TABLE.forEach((code, meaning) -> assertThat(readme).contains("| " + code + " | " + meaning + " |"));
    }

    @Test
    void aBadCommandLineIsOneLineAndExits2() {
        CliRun unknown = CliRun.of(Main.commandLine(), "machines", "--frobnicate");
        assertThat(unknown.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(unknown.err()).isEqualTo(
                "pivot machines: Unknown option: '--frobnicate' (see pivot machines --help)\n");

        CliRun badMode = CliRun.of(Main.commandLine(), "serve", "dir", "--listen", "127.0.0.1", "--dhcp", "bogus");
        assertThat(badMode.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(badMode.err()).startsWith("pivot: ").contains("'bogus' is not a DHCP mode: proxy, full, off")
                .hasLineCount(1);

        for (String command : new String[] {"assign", "label"}) {
            CliRun badMac = CliRun.of(Main.commandLine(), command, "52:54:00:zz:00:01", "a=b");
            assertThat(badMac.exit()).as(command).isEqualTo(ExitCodes.USAGE);
            assertThat(badMac.err()).as(command).contains("MAC 52:54:00:zz:00:01: ").hasLineCount(1);
        }
    }

    @Test
    void exceptionsMapToTheTable() {
        assertThat(ExitCodes.of(new IllegalArgumentException("x"))).isEqualTo(2);
        assertThat(ExitCodes.of(new ExitCodes.ApiError(400, "bad"))).isEqualTo(2);
        assertThat(ExitCodes.of(new ExitCodes.ApiError(500, "broke"))).isEqualTo(1);
        assertThat(ExitCodes.of(new ExitCodes.Unreachable("down", null))).isEqualTo(3);
        assertThat(ExitCodes.of(new java.io.IOException("disk"))).isEqualTo(1);
        assertThat(new CommandLine(new Main()).getCommandSpec().subcommands()).containsKey("label");
    }
}
