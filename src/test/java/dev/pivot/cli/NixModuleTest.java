package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The NixOS module in nix/, checked with Debian's nix-bin and nixpkgs' lib (NIXPKGS_LIB, else ../shared/nixpkgs-lib
 * beside the project, which CI has): every .nix file parses, the module evaluates to the service, user and
 * firewall it should (nix/check.nix), and its options are `pivot serve`'s flags. Missing Nix or the lib fails
 * the test, naming what is missing, unless -Dpivot.nix=false says to skip it.
 */
class NixModuleTest {

    private static final Path NIX_DIR = Path.of("nix");
    private static final String OPT_OUT = "pivot.nix";

    /** The module's own options, which are no flag of `pivot serve`. */
    private static final Set<String> MODULE_ONLY = Set.of("enable", "package", "openFirewall", "extraArgs");

    @Test
    void everyNixFileParses() throws Exception {
        String nix = tool("nix-instantiate");
        List<Path> files;
        try (Stream<Path> s = Files.list(NIX_DIR)) {
            files = s.filter(p -> p.toString().endsWith(".nix")).sorted().toList();
        }
        assertThat(files).extracting(p -> p.getFileName().toString())
                .contains("module.nix", "package.nix", "flake.nix", "test.nix", "check.nix");
        for (Path file : files) {
            run(nix, "--parse", file.toString());
        }
    }

    @Test
    void theServiceRunsPivotServeAsPivotWithOnlyTheCapabilitiesItNeeds() throws Exception {
        JsonNode r = evaluate();

        JsonNode iface = r.path("onInterface");
        assertThat(iface.path("failedAssertions")).isEmpty();
        JsonNode unit = iface.path("service");
        assertThat(unit.path("ExecStart").asText()).isEqualTo("/nix/store/00000000000000000000000000000000-pivot/bin/pivot"
                + " serve /srv/netboot/pc --interface eth1 --dhcp full --range 10.0.0.100-10.0.0.199 --http-port 80"
                + " --tftp-port 69 --state /var/lib/pivot --efi-loader ipxe.efi --profiles /etc/pivot/profiles.yaml"
                + " --ipxe-dir /nix/store/00000000000000000000000000000000-ipxe --stage1 prelude --keep-generations 10 --menu-timeout 5 --root-transport http --nbd-port 10809 --skip-check");
        assertThat(unit.path("ExecReload").asText())
                .isEqualTo("/nix/store/00000000000000000000000000000000-coreutils/bin/kill -HUP $MAINPID");
        assertThat(unit.path("User").asText()).isEqualTo("pivot");
        assertThat(unit.path("Group").asText()).isEqualTo("pivot");
        assertThat(unit.path("StateDirectory").asText()).isEqualTo("pivot");
        assertThat(unit.path("ProtectSystem").asText()).isEqualTo("strict");
        assertThat(unit.path("NoNewPrivileges").asBoolean()).isTrue();
        assertThat(unit.path("RestartPreventExitStatus").asText()).isEqualTo(String.valueOf(ExitCodes.USAGE));
        assertThat(texts(unit.path("AmbientCapabilities")))
                .containsExactly("CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_NET_ADMIN");
        assertThat(texts(unit.path("CapabilityBoundingSet"))).isEqualTo(texts(unit.path("AmbientCapabilities")));
        assertThat(unit.path("wantedBy").toString()).contains("multi-user.target");
        assertThat(iface.path("user").path("isSystemUser").asBoolean()).isTrue();
        assertThat(iface.path("udp").toString()).isEqualTo("[67,4011,69]");
        assertThat(iface.path("tcp").toString()).isEqualTo("[80]");

        // No interface to bind, no DHCP: the low port is the only privilege; odd characters reach pivot intact.
        JsonNode loopback = r.path("onLoopback");
        assertThat(texts(loopback.path("service").path("AmbientCapabilities"))).containsExactly("CAP_NET_BIND_SERVICE");
        assertThat(loopback.path("service").path("ExecStart").asText())
                .contains("--listen 127.0.0.1 --dhcp off --http-port 8080", "--state \"/srv/pivot state\"",
                        "--database \"jdbc:postgresql://db/pivot?user=pivot&x=100%%\"");
        assertThat(texts(loopback.path("service").path("ReadWritePaths"))).containsExactly("/srv/pivot state");
        assertThat(loopback.path("udp").toString()).isEqualTo("[69]");
        assertThat(loopback.path("tcp").toString()).isEqualTo("[8080]");

        assertThat(texts(r.path("fullWithoutRange").path("failedAssertions")))
                .containsExactly("services.pivot: dhcp = \"full\" needs range (FIRST-LAST)");
        assertThat(r.path("disabled").path("service").isNull()).isTrue();
        assertThat(r.path("disabled").path("udp")).isEmpty();
    }

    /**
     * The module's options are pivot serve's flags, which are also the keys of its --config file (the flag without
     * its dashes; the image as image:). --config itself is the file's, not a setting: the module passes flags.
     */
    @Test
    void theModulesOptionsArePivotServesFlagsAndConfigKeys() throws Exception {
        Set<String> flags = new TreeSet<>();
        CommandLine serve = new CommandLine(new ServeCommand());
        serve.getCommandSpec().options().stream().map(o -> o.longestName())
                .filter(n -> !n.equals("--help") && !n.equals("--version") && !n.equals("--config"))
                .forEach(flags::add);
        serve.getCommandSpec().positionalParameters().forEach(p -> flags.add(p.paramLabel()));

        Set<String> fromModule = new TreeSet<>();
        for (JsonNode name : evaluate().path("declared")) {
            if (!MODULE_ONLY.contains(name.asText())) {
                fromModule.add(flag(name.asText()));
            }
        }
        assertThat(fromModule).as("services.pivot options as pivot serve flags").isEqualTo(flags);
    }

    /** services.pivot.tftpMaxBlksize → --tftp-max-blksize; image is DIR, stateDir is --state. */
    static String flag(String option) {
        return switch (option) {
            case "image" -> "DIR";
            case "stateDir" -> "--state";
            default -> "--" + option.replaceAll("([A-Z])", "-$1").toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static JsonNode evaluate() throws Exception {
        String nix = tool("nix-instantiate");
        Path lib = nixpkgsLib();
        return new ObjectMapper().readTree(run(nix, "--eval", "--strict", "--json", NIX_DIR.resolve("check.nix")
                .toString(), "--arg", "nixpkgsLib", lib.toAbsolutePath().toString()));
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** NIXPKGS_LIB (the lib directory or the checkout holding it), else ../shared/nixpkgs-lib/lib. */
    private static Path nixpkgsLib() {
        String env = System.getenv("NIXPKGS_LIB");
        List<Path> tried = new ArrayList<>();
        if (env != null && !env.isBlank()) {
            tried.add(Path.of(env));
            tried.add(Path.of(env, "lib"));
        }
        tried.add(Path.of("..", "shared", "nixpkgs-lib", "lib"));
        for (Path p : tried) {
            if (Files.isRegularFile(p.resolve("default.nix")) && Files.isRegularFile(p.resolve("modules.nix"))) {
                return p;
            }
        }
        missing("nixpkgs' lib not found (tried " + (env == null || env.isBlank() ? "NIXPKGS_LIB (not set), " : "")
                + String.join(", ", tried.stream().map(Path::toString).toList())
                + "); set NIXPKGS_LIB to a nixpkgs checkout's lib");
        return null;
    }

    private static String tool(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        missing(name + " is not installed (apt-get install nix-bin; ./test installs it)");
        return null;
    }

    /** Fails, saying what is missing, unless -Dpivot.nix=false opts out (then the test is skipped, saying why). */
    private static void missing(String what) {
        if ("false".equals(System.getProperty(OPT_OUT))) {
            Assumptions.abort(what + " (skipped: -D" + OPT_OUT + "=false)");
        }
        fail(what + "; or run with -D" + OPT_OUT + "=false to skip the NixOS module checks");
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("nix-", ".out");
        Path err = Files.createTempFile("nix-", ".err");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", command) + ": no answer within 120 s");
            }
            if (p.exitValue() != 0) {
                fail(String.join(" ", command) + " exited " + p.exitValue() + ":\n"
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return Files.readString(out, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
