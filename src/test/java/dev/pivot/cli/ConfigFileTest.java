package dev.pivot.cli;

import dev.pivot.testsupport.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** `--config pivot.yaml`: every serve option a key, the command line winning, bad keys and values named by line. */
class ConfigFileTest {

    @TempDir
    Path dir;

    private Path config(String yaml) throws Exception {
        Path file = dir.resolve("pivot.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    private CliRun run(String... args) {
        return CliRun.of(Main.commandLine(), c -> Main.run(c, args));
    }

    @Test
    void eachKeyBecomesItsOptionAndTheImageItsDirectory() throws Exception {
        Path yaml = config("""
                # the server's config
                image: /srv/result
                listen: 127.0.0.1
                dhcp: full
                range: 10.0.0.10-10.0.0.20
                protect-reads: true
                skip-check: false
                http-port: 8080
                """);
        ConfigFile.Expanded x = ConfigFile.expand(new String[] {"serve", "--config", yaml.toString()},
                ConfigFile.serveSpec());
        assertThat(x.args()).containsExactly("serve", "/srv/result", "--listen=127.0.0.1", "--dhcp=full",
                "--range=10.0.0.10-10.0.0.20", "--protect-reads", "--http-port=8080", "--config", yaml.toString());
        assertThat(x.origins()).containsEntry("--dhcp", "pivot.yaml:4").containsEntry("image", "pivot.yaml:2");
    }

    @Test
    void theCommandLineOverridesTheFile() throws Exception {
        Path yaml = config("image: /srv/a\nlisten: 127.0.0.1\ndhcp: full\n");
        ConfigFile.Expanded x = ConfigFile.expand(new String[] {"check", "--dhcp", "off", "--config=" + yaml, "/srv/b"},
                ConfigFile.serveSpec());
        assertThat(x.args()).containsExactly("check", "--listen=127.0.0.1", "--dhcp", "off", "--config=" + yaml,
                "/srv/b");
    }

    @Test
    void withoutConfigNothingChanges() {
        String[] args = {"serve", "dir", "--listen", "127.0.0.1"};
        assertThat(ConfigFile.expand(args, ConfigFile.serveSpec()).args()).isSameAs(args);
        String[] machines = {"machines", "--config", "x"};
        assertThat(ConfigFile.expand(machines, ConfigFile.serveSpec()).args()).isSameAs(machines);
    }

    @Test
    void anUnknownKeyIsNamedWithItsLine() throws Exception {
        Path yaml = config("listen: 127.0.0.1\n\nintreface: eth0\n");
        CliRun r = run("check", "--config", yaml.toString());
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).startsWith("pivot: pivot.yaml:3: unknown key 'intreface'").hasLineCount(1);
    }

    @Test
    void aValueServeRefusesIsNamedWithItsLine() throws Exception {
        Path yaml = config("image: " + dir + "\nlisten: 127.0.0.1\nhttp-port: eighty\n");
        CliRun r = run("check", "--config", yaml.toString());
        assertThat(r.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).startsWith("pivot: pivot.yaml:3: ").contains("--http-port").contains("eighty")
                .hasLineCount(1);
    }

    @Test
    void shapesThatAreNotOptionsAreRefused() throws Exception {
        assertThat(run("check", "--config", config("- a\n- b\n").toString()).err())
                .startsWith("pivot: pivot.yaml:1: expected keys and values");
        assertThat(run("check", "--config", config("listen:\n  a: b\n").toString()).err())
                .startsWith("pivot: pivot.yaml:2: listen: expected a value, not a map");
        assertThat(run("check", "--config", config("protect-reads: yes please\n").toString()).err())
                .startsWith("pivot: pivot.yaml:1: protect-reads: expected true or false");
        assertThat(run("check", "--config", config("listen: [a, b]\n").toString()).err())
                .startsWith("pivot: pivot.yaml:1: listen: expected one value, not a list");
        assertThat(run("check", "--config", config("dhcp: full\ndhcp: off\n").toString()).err())
                .startsWith("pivot: pivot.yaml:2: dhcp is given twice");
        assertThat(run("check", "--config", dir.resolve("none.yaml").toString()).err())
                .isEqualTo("pivot: --config " + dir.resolve("none.yaml") + ": no such file\n");
    }

    @Test
    void checkSaysOkWithoutStartingAnything() throws Exception {
        Files.createDirectories(dir.resolve("img"));
        Path yaml = config("image: " + dir.resolve("img") + "\nlisten: 127.0.0.1\ndhcp: off\nhttp-port: 1\n");
        CliRun r = run("check", "--config", yaml.toString());
        assertThat(r.err()).isEmpty();
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo("pivot check: ok: " + dir.resolve("img") + " on 127.0.0.1, dhcp off, "
                + "no profiles file\n");

        CliRun noImage = run("check", "--listen", "127.0.0.1", "--dhcp", "off", dir.resolve("gone").toString());
        assertThat(noImage.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(noImage.err()).isEqualTo("pivot: " + dir.resolve("gone") + ": no such directory\n");
    }

    @Test
    void thePackagedConfigIsAllCommentsAndParses() {
        assertThat(ConfigFile.read(Path.of("packaging/deb/pivot.yaml"))).isEmpty();
    }

    @Test
    void completionScriptsNameEveryCommand() {
        CliRun bash = CliRun.of(Main.commandLine(), "completion", "bash");
        assertThat(bash.exit()).isZero();
        assertThat(bash.out()).contains("complete -F _complete_pivot").contains("serve").contains("--config")
                .contains("machines");
        CliRun zsh = CliRun.of(Main.commandLine(), "completion", "zsh");
        assertThat(zsh.out()).startsWith("autoload -U +X compinit && compinit\n").contains("bashcompinit");
    }
}
