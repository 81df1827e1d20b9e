package dev.pivot.lab;

import dev.pivot.demo.DemoImage;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.Qemu;
import dev.pivot.demo.ServeProcess;
import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Debian package as a sysadmin gets it: built by the release script, installed with dpkg on this machine, its
 * unit accepted by systemd-analyze, its man page and completion present, `pivot serve` run as the pivot user with
 * exactly the unit's capabilities (setpriv reproduces AmbientCapabilities= and NoNewPrivileges=, as CI has no
 * systemd as PID 1) network-booting a VM to stage 2, and then removed and purged without a trace.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PackageIT {
    private static final Duration BOOT_LIMIT = Duration.ofSeconds(240);
    private static final String MAC = "52:54:00:77:00:51";
    private static final Path UNIT = Path.of("/lib/systemd/system/pivot.service");
    /** Files the package installs, checked after install and after removal. */
    private static final List<Path> INSTALLED = List.of(Path.of("/usr/bin/pivot"), UNIT,
            Path.of("/usr/lib/pivot/runtime/bin/java"), Path.of("/usr/lib/pivot/lib/pivot.jar"),
            Path.of("/usr/share/man/man1/pivot.1.gz"), Path.of("/usr/share/bash-completion/completions/pivot"));
    private static final Path CONFIG = Path.of("/etc/pivot/pivot.yaml");

    private static Path work;
    private static Path deb;
    private static boolean stateDirExisted;

    @BeforeAll
    static void buildThePackage() throws Exception {
        Require.vmLab();
        Require.packagedCli();
        for (String tool : List.of("dpkg-deb", "help2man", "systemd-analyze", "setpriv", "man")) {
            Require.command(tool);
        }
        String status = run(List.of("dpkg-query", "-W", "-f=${Status}", "pivot"), Duration.ofSeconds(30)).out();
        if (status.endsWith(" installed") || status.endsWith(" config-files")) {
            throw new AssertionError("a pivot package is already installed on this machine: remove it "
                    + "(dpkg -P pivot) before running PackageIT, which installs and removes its own");
        }
        stateDirExisted = Files.exists(Path.of("/var/lib/pivot"));
        // World-readable: the pivot user reads the image from here (JUnit's temporary directories are 0700).
        work = Files.createTempDirectory("pivot-package-it-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Result build = run(List.of("bash", Require.pivotRoot().resolve("scripts/build-deb.sh").toString(),
                work.toString()), Duration.ofMinutes(10), "PIVOT_DEB_COMPRESSION=gzip");
        assertThat(build.exit()).as("build-deb.sh: " + build.err()).isZero();
        deb = Path.of(build.out().strip());
        assertThat(deb).exists().hasFileName("pivot_0.1.0_" + arch() + ".deb");
    }

    @AfterAll
    static void purge() throws Exception {
        // On every path: whatever the tests got to, the machine ends without the package, its user and its files.
        run(List.of("dpkg", "-P", "pivot"), Duration.ofMinutes(2));
        if (work != null) {
            run(List.of("rm", "-rf", work.toString()), Duration.ofMinutes(1));
        }
    }

    @Test
    @Order(1)
    void installsWithItsUserUnitManPageAndCompletion() throws Exception {
        // The Secure Boot chain `pivot serve` gives UEFI PXE clients by default comes from these two packages.
        Result recommends = run(List.of("dpkg-deb", "--field", deb.toString(), "Recommends"), Duration.ofSeconds(30));
        assertThat(recommends.out().strip()).isEqualTo("amd64".equals(arch())
                ? "ovmf, shim-signed, grub-efi-amd64-signed" : "ovmf");
        Result install = run(List.of("dpkg", "-i", deb.toString()), Duration.ofMinutes(3));
        assertThat(install.exit()).as("dpkg -i: " + install.err()).isZero();
        INSTALLED.forEach(p -> assertThat(p).exists());
        assertThat(CONFIG).exists();
        assertThat(run(List.of("id", "-u", "pivot"), Duration.ofSeconds(10)).exit()).as("the pivot user").isZero();

        Result verify = run(List.of("systemd-analyze", "verify", UNIT.toString()), Duration.ofMinutes(1));
        assertThat(verify.exit()).as("systemd-analyze verify: " + verify.out() + verify.err()).isZero();

        Result man = run(List.of("man", "-P", "cat", "pivot"), Duration.ofSeconds(30), "MANWIDTH=100");
        assertThat(man.exit()).as("man pivot: " + man.err()).isZero();
        assertThat(man.out()).contains("pivot - network-boot server").contains("COMMAND: PIVOT SERVE")
                .contains("--config=FILE").contains("/etc/pivot/pivot.yaml");

        Result completion = run(List.of("/usr/bin/pivot", "completion", "bash"), Duration.ofSeconds(60));
        assertThat(completion.exit()).isZero();
        assertThat(completion.out()).isEqualTo(Files.readString(
                Path.of("/usr/share/bash-completion/completions/pivot")));
        Result sourced = run(List.of("bash", "-c", "source /usr/share/bash-completion/completions/pivot && "
                + "COMP_WORDS=(pivot ser) COMP_CWORD=1 _complete_pivot && echo \"${COMPREPLY[@]}\""),
                Duration.ofSeconds(30));
        assertThat(sourced.out()).as("bash completes 'pivot ser'").contains("serve");

        // The start-up time of a command, median of 5 (printed; CI's machine is not idle, so only a loose bound).
        List<Double> seconds = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            Result help = run(List.of("/usr/bin/pivot", "--help"), Duration.ofSeconds(30));
            seconds.add((System.nanoTime() - t0) / 1e9);
            assertThat(help.exit()).isZero();
        }
        double median = seconds.stream().sorted().toList().get(2);
        System.out.printf(Locale.ROOT, "PackageIT: /usr/bin/pivot --help median of 5: %.3f s %s%n", median,
                seconds.stream().map(s -> String.format(Locale.ROOT, "%.3f", s)).collect(Collectors.toList()));
        assertThat(median).as("pivot --help seconds").isLessThan(3.0);
    }

    @Test
    @Order(2)
    void servesAsThePivotUserWithTheUnitsCapabilitiesAndAVmBoots() throws Exception {
        Path image = DemoImage.build(Require.pivotRoot(), work.resolve("image"));
        Path state = work.resolve("state");
        Files.createDirectories(state);
        assertThat(run(List.of("chown", "pivot:pivot", state.toString()), Duration.ofSeconds(10)).exit()).isZero();
        assertThat(run(List.of("chmod", "-R", "a+rX", image.toString()), Duration.ofSeconds(30)).exit()).isZero();

        List<String> caps = unitList("AmbientCapabilities");
        assertThat(caps).as("the unit's capabilities").isNotEmpty();
        assertThat(unitList("CapabilityBoundingSet")).containsExactlyInAnyOrderElementsOf(caps);
        assertThat(unitList("User")).containsExactly("pivot");
        assertThat(unitList("NoNewPrivileges")).containsExactly("yes");
        String capList = caps.stream().map(c -> "+" + c.toLowerCase(Locale.ROOT).replaceFirst("^cap_", ""))
                .collect(Collectors.joining(","));
        List<String> asTheUnit = List.of("setpriv", "--reuid=pivot", "--regid=pivot", "--init-groups",
                "--inh-caps=-all," + capList, "--ambient-caps=-all," + capList, "--bounding-set=-all," + capList,
                "--no-new-privs", "/usr/bin/pivot");

        List<String> serverLines = new CopyOnWriteArrayList<>();
        try (LabNetwork lab = LabNetwork.create("pkg")) {
            ServeProcess server = ServeProcess.start(lab, asTheUnit, image, "full", state, List.of(), line -> {
                serverLines.add(line);
                System.out.println("serve | " + line);
            });
            String status = Files.readString(Path.of("/proc", Long.toString(server.pid()), "status"));
            assertThat(status).as("runs as the pivot user").containsPattern("Uid:\\s+" + uid("pivot") + "\\s");
            assertThat(capEff(status)).as("effective capabilities are exactly the unit's")
                    .isEqualTo(capMask(caps));
            try (Qemu vm = Qemu.start(lab.namespace(), Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO, MAC,
                    LabNetwork.TAP, lab.workDir().resolve("serial.log")))) {
                Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
                System.out.printf("PackageIT: installed pivot serve, as user pivot: QEMU start -> stage 2 in %s%n",
                        Qemu.seconds(took));
                assertThat(vm.serial()).contains("sha256 ok").doesNotContain("pivot: FAILED");
            }
            assertThat(server.isAlive()).as("pivot serve still running after the boot").isTrue();
            assertThat(Files.list(state).map(p -> p.getFileName().toString()).toList())
                    .as("the pivot user wrote its state").contains("pivot.db", "api-token");
        }
    }

    @Test
    @Order(3)
    void removesCleanlyAndPurgesTheRest() throws Exception {
        Result remove = run(List.of("dpkg", "-r", "pivot"), Duration.ofMinutes(2));
        assertThat(remove.exit()).as("dpkg -r: " + remove.err()).isZero();
        INSTALLED.forEach(p -> assertThat(p).doesNotExist());
        assertThat(Path.of("/usr/lib/pivot")).as("nothing left where the runtime was").doesNotExist();
        assertThat(CONFIG).as("dpkg -r keeps the config").exists();

        Result purge = run(List.of("dpkg", "-P", "pivot"), Duration.ofMinutes(2));
        assertThat(purge.exit()).as("dpkg -P: " + purge.err()).isZero();
        assertThat(CONFIG).doesNotExist();
        assertThat(run(List.of("id", "-u", "pivot"), Duration.ofSeconds(10)).exit()).as("the pivot user is gone")
                .isNotZero();
        assertThat(Files.exists(Path.of("/var/lib/pivot"))).as("/var/lib/pivot as it was before the test")
                .isEqualTo(stateDirExisted);
    }

    private static List<String> unitList(String key) throws IOException {
        return Files.readAllLines(UNIT).stream().filter(l -> l.startsWith(key + "="))
                .flatMap(l -> Arrays.stream(l.substring(key.length() + 1).trim().split("\\s+"))).toList();
    }

    private static String capEff(String status) {
        return status.lines().filter(l -> l.startsWith("CapEff:")).map(l -> l.substring(7).trim()).findFirst()
                .orElseThrow();
    }

    /** The /proc status mask of capabilities named CAP_X as in the unit. */
    private static String capMask(List<String> caps) {
        long mask = 0;
        for (String c : caps) {
            mask |= 1L << switch (c) {
                case "CAP_NET_BIND_SERVICE" -> 10;
                case "CAP_NET_ADMIN" -> 12;
                case "CAP_NET_RAW" -> 13;
                default -> throw new AssertionError("PackageIT does not know " + c + "'s number");
            };
        }
        return String.format("%016x", mask);
    }

    private static String uid(String user) throws Exception {
        return run(List.of("id", "-u", user), Duration.ofSeconds(10)).out().strip();
    }

    private static String arch() throws Exception {
        return run(List.of("dpkg", "--print-architecture"), Duration.ofSeconds(10)).out().strip();
    }

    record Result(int exit, String out, String err) {
    }

    /** Runs {@code command} (with extra VAR=value environment), waiting up to {@code limit}; killed past it. */
    private static Result run(List<String> command, Duration limit, String... env) throws Exception {
        Path out = Files.createTempFile("package-it-", ".out");
        Path err = Files.createTempFile("package-it-", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            for (String e : env) {
                pb.environment().put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
            }
            Process p = pb.start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(String.join(" ", command) + ": no end within " + limit.toSeconds() + " s");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
