package dev.pivot.lab;

import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.Qemu;
import dev.pivot.demo.ServeProcess;
import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What most PXE users boot: a kernel and an initrd with a command line, nothing else — Debian's own installer
 * (package {@value #PACKAGE}: {@code linux} + {@code initrd.gz}, fetched with apt-get download + dpkg-deb -x by
 * scripts/fetch-debian-installer.sh into the cache, never vendored). `pivot serve --kernel … --initrd … --cmdline`
 * (and, once, `pivot serve DIR` with a pivot.yaml naming them) in a private namespace boots it in QEMU, BIOS and
 * UEFI, until the installer's first dialog shows on the serial
 * console; the server's timeline must show DHCP, the script, the kernel and the initrd, and no Pivot stage 1 may
 * take part (no pivot.* parameter on the kernel's command line).
 */
class KernelInitrdIT {
    static final String PACKAGE = "debian-installer-12-netboot-amd64";
    /** The installer's first question, as its newt dialog title reads on a serial console. */
    private static final String FIRST_DIALOG = "Select a language";
    /** Under TCG the installer reaches its first dialog in 30-60 s here; room for a loaded 2-core machine. */
    private static final Duration BOOT_LIMIT = Duration.ofSeconds(300);
    private static final Duration TIMELINE_LIMIT = Duration.ofSeconds(30);
    private static final String MAC = "52:54:00:77:00:61";
    /** The serial console, and the installer's own default priority spelt out: both must reach the kernel as given. */
    private static final String CMDLINE = "console=ttyS0,115200 priority=high";

    private static Path installer;

    @BeforeAll
    static void fetchInstaller() {
        Require.vmLab();
        Require.packagedCli();
        Require.command("apt-get", "apt");
        Require.command("dpkg-deb", "dpkg");
        installer = fetch(Require.pivotRoot().resolve("scripts/fetch-debian-installer.sh"));
    }

    /** Runs the fetch script; a failure names the package and what went wrong. */
    private static Path fetch(Path script) {
        try {
            Path log = Files.createTempFile("pvt-fetch-", ".log");
            Process p = new ProcessBuilder("bash", script.toString()).redirectError(log.toFile()).start();
            p.getOutputStream().close();
            boolean done = p.waitFor(5, TimeUnit.MINUTES);
            String stdout = done ? new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip() : "";
            String stderr = Files.readString(log, StandardCharsets.UTF_8).strip();
            Files.deleteIfExists(log);
            if (!done) {
                p.destroyForcibly();
                throw new AssertionError("cannot get Debian package " + PACKAGE + ": " + script + " took over 5 min");
            }
            if (p.exitValue() != 0 || stdout.isEmpty()) {
                throw new AssertionError("cannot get Debian package " + PACKAGE + " (" + script + " exit "
                        + p.exitValue() + "): " + stderr);
            }
            Path dir = Path.of(stdout.lines().reduce((a, b) -> b).orElseThrow());
            Require.file(dir.resolve("linux"), PACKAGE);
            Require.file(dir.resolve("initrd.gz"), PACKAGE);
            return dir;
        } catch (IOException e) {
            throw new AssertionError("cannot get Debian package " + PACKAGE + ": cannot run " + script + ": "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while fetching " + PACKAGE, e);
        }
    }

    /** How `pivot serve` is told what to serve: by its flags, or by a directory's pivot.yaml. */
    enum Source { FLAGS, PIVOT_YAML }

    static Stream<Arguments> ways() {
        return Stream.of(Arguments.of(Qemu.Boot.BIOS_IPXE_ROM, Source.FLAGS),
                Arguments.of(Qemu.Boot.UEFI_IPXE_ROM, Source.FLAGS),
                Arguments.of(Qemu.Boot.BIOS_IPXE_ROM, Source.PIVOT_YAML));
    }

    /** `--kernel linux --initrd initrd.gz --cmdline …`, or DIR with links to both and a pivot.yaml naming them. */
    private static List<String> serveArgs(Source source, Path work) throws IOException {
        if (source == Source.FLAGS) {
            return List.of("--kernel", installer.resolve("linux").toString(),
                    "--initrd", installer.resolve("initrd.gz").toString(), "--cmdline", CMDLINE);
        }
        Path dir = Files.createDirectories(work.resolve("d-i"));
        Files.createSymbolicLink(dir.resolve("linux"), installer.resolve("linux"));
        Files.createSymbolicLink(dir.resolve("initrd.gz"), installer.resolve("initrd.gz"));
        Files.writeString(dir.resolve("pivot.yaml"), "# Debian's installer, served as it is\nkernel: linux\n"
                + "initrd: initrd.gz\ncmdline: " + CMDLINE + "\n");
        return List.of(dir.toString());
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("ways")
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void debianInstallerReachesItsFirstDialog(Qemu.Boot firmware, Source source, @TempDir Path state)
            throws IOException {
        List<String> serverLines = new CopyOnWriteArrayList<>();
        try (LabNetwork lab = LabNetwork.create("kinit")) {
            ServeProcess server = ServeProcess.serving(lab, Require.pivotRoot(), serveArgs(source, lab.workDir()),
                    "full", state, List.of(), line -> {
                        serverLines.add(line);
                        System.out.println("serve | " + line);
                    });
            // The installer unpacks a 40 MB initrd into RAM: 768 MB (the lab's default) leaves it little room.
            Qemu.Spec spec = new Qemu.Spec(firmware, Qemu.Nic.VIRTIO, MAC, LabNetwork.TAP, 1024,
                    lab.workDir().resolve("serial.log"));
            try (Qemu vm = Qemu.start(lab.namespace(), spec)) {
                Duration took = vm.awaitMarker(FIRST_DIALOG, BOOT_LIMIT);
                System.out.printf("KernelInitrdIT [%s, %s]: QEMU start -> the installer's '%s' in %s%n", firmware,
                        source, FIRST_DIALOG, Qemu.seconds(took));
                String console = vm.serial();
                // iPXE adds initrd= for the EFI stub (and, under UEFI, the image's name in front): nothing else.
                assertThat(console.lines().filter(l -> l.contains("Command line: ")).findFirst())
                        .as("the kernel got the operator's command line and nothing of Pivot's stage 1")
                        .hasValueSatisfying(l -> assertThat(l).matches(".*Command line: (linux )?initrd=initrd\\.gz "
                                + java.util.regex.Pattern.quote(CMDLINE) + "\\s*"));
                assertThat(console).doesNotContain("pivot.url=").doesNotContain("rdinit=");
                awaitTimeline(serverLines, vm);
                assertThat(serverLines).as("pivot serve says what it serves")
                        .anyMatch(l -> l.startsWith("pivot: serving kernel linux") && l.contains("initrd.gz")
                                && l.contains("no stage 1") && l.endsWith(CMDLINE));
                assertThat(server.isAlive()).as("pivot serve still running after the boot").isTrue();
            }
        }
    }

    /** DHCP, the script, the kernel and the initrd, each on this machine's timeline, then Pivot's hand-over. */
    private static void awaitTimeline(List<String> serverLines, Qemu vm) {
        List<String> steps = List.of("dhcp", "script", "kernel", "initrd", "handover");
        long deadline = System.nanoTime() + TIMELINE_LIMIT.toNanos();
        while (true) {
            List<String> missing = steps.stream().filter(step -> serverLines.stream().noneMatch(l ->
                    l.contains(MAC) && l.matches(".*\\+\\s*[0-9.]+s\\s+" + step + "\\s.*"))).toList();
            if (missing.isEmpty()) {
                assertThat(serverLines).as("the kernel and the initrd by name")
                        .anyMatch(l -> l.contains(MAC) && l.matches(".*\\skernel\\s+linux\\s.*"))
                        .anyMatch(l -> l.contains(MAC) && l.matches(".*\\sinitrd\\s+initrd\\.gz\\s.*"));
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timeline steps " + missing + " missing after " + TIMELINE_LIMIT.toSeconds()
                        + " s\nserver:\n" + String.join("\n", serverLines) + "\nconsole:\n" + vm.tail(20));
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for the timeline", e);
            }
        }
    }
}
