package dev.pivot.http;

import dev.pivot.testsupport.Require;
import dev.pivot.boot.AddressBook;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real iPXE (Debian's ipxe.lkrn under QEMU/TCG) runs the scripts this server renders. QEMU runs inside a
 * network namespace of its own with user-mode networking (slirp: DHCP and TCP are emulated inside QEMU, no
 * packet reaches any interface); its guest address 10.0.2.100:8080 is forwarded through a UNIX socket and socat
 * to the server on 127.0.0.1. The "kernel" it boots is ipxe.lkrn again (a bzImage), so a second iPXE banner
 * proves the kernel and both initrds were fetched and booted.
 */
class IpxeBootIT {

    static final Path IPXE_LKRN = Path.of("/usr/lib/ipxe/ipxe.lkrn");
    static final MacAddress BOOTS = MacAddress.parse("52:54:00:77:00:01");
    static final MacAddress BROKEN = MacAddress.parse("52:54:00:77:00:02");
    static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    Path dir;

    final List<BootEvent> events = new CopyOnWriteArrayList<>();
    final List<Process> processes = new ArrayList<>();

    @Test
    void ipxeFollowsTheScriptAndShowsWhichFileFailed() throws Exception {
        Require.vmLab();
        Require.command("socat");
        Require.command("ip");
        Require.file(IPXE_LKRN, "ipxe");

        PivotHttpServerIT.TestArtifacts artifacts = new PivotHttpServerIT.TestArtifacts();
        Artifact kernel = artifacts.add(Files.copy(IPXE_LKRN, dir.resolve("bzImage")), "bzImage");
        Artifact initrd = artifacts.add(random("initrd", 4096, 1), "initrd");
        Artifact prelude = artifacts.add(random("pivot.cpio.gz", 2048, 2), "pivot.cpio.gz");
        Artifact root = artifacts.add(random("nix-store.squashfs", 1024, 3), "nix-store.squashfs");
        BootSpec good = new BootSpec(kernel, List.of(initrd, prelude), root, "/nix/store/abc-test/init",
                List.of("console=ttyS0"), "/pivot/init");
        Artifact missing = new Artifact("f".repeat(64), 1, "bzImage");
        BootSpec broken = new BootSpec(missing, List.of(initrd, prelude), root, "/nix/store/abc-test/init",
                List.of(), "/pivot/init");
        BootCatalog catalog = mac -> mac.equals(BOOTS) ? Optional.of(good)
                : mac.equals(BROKEN) ? Optional.of(broken) : Optional.empty();

        String namespace = "pvt-ipxe-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
        // The guest reaches the server through a forward (10.0.2.100:8080), as behind a proxy: the scripts must
        // name that address, which the server cannot see on its own connection, so it is configured.
        try (PivotHttpServer server = new PivotHttpServer(new HttpConfig(InetAddress.getLoopbackAddress(), 0,
                Optional.of("http://10.0.2.100:8080"), HttpConfig.DEBIAN_IPXE_DIR), catalog, artifacts,
                new AddressBook(), events::add)) {
            server.start();
            Path socket = dir.resolve("http.sock");
            start(List.of("socat", "UNIX-LISTEN:" + socket + ",fork,mode=600", "TCP:127.0.0.1:" + server.port()));
            run("ip", "netns", "add", namespace);
            run("ip", "-n", namespace, "link", "set", "lo", "up");
            Path first = Files.writeString(dir.resolve("first.ipxe"),
                    "#!ipxe\ndhcp\nchain http://10.0.2.100:8080/boot.ipxe\n");
            Path goodLog = dir.resolve("boots.serial");
            Path brokenLog = dir.resolve("broken.serial");
            startVm(namespace, BOOTS, first, socket, goodLog);
            startVm(namespace, BROKEN, first, socket, brokenLog);

            String goodSerial = awaitSerial(goodLog, "Pivot: booting", 2);
            assertThat(goodSerial).contains("Pivot: loading kernel bzImage", "Pivot: loading initrd initrd",
                    "Pivot: loading initrd pivot.cpio.gz");
            assertThat(eventsOf(BOOTS)).extracting(BootEvent::step)
                    .contains(Step.SCRIPT, Step.KERNEL, Step.INITRD);
            assertThat(eventsOf(BOOTS)).filteredOn(e -> e.step() == Step.KERNEL).first()
                    .satisfies(e -> assertThat(e.bytes()).isEqualTo(kernel.size()));
            assertThat(eventsOf(BOOTS)).filteredOn(e -> e.step() == Step.INITRD).extracting(BootEvent::detail)
                    .contains("initrd", "pivot.cpio.gz");
            assertThat(eventsOf(BOOTS)).noneMatch(BootEvent::failed);

            String brokenSerial = awaitSerial(brokenLog, "retrying in", 1);
            // The serial console is an 80-column screen: long lines arrive cut, so look for the start of the line.
            assertThat(brokenSerial).contains("Pivot: FAILED to load kernel bzImage from http://10.0.2.100:8080/"
                    + "artifacts/" + missing.sha256().substring(0, 5), "Pivot: boot of " + BROKEN + " failed");
            assertThat(eventsOf(BROKEN)).extracting(BootEvent::step).containsOnly(Step.SCRIPT);
            System.out.println("--- serial of the VM that boots:\n" + goodSerial);
        } finally {
            for (Process p : processes) {
                p.destroy();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
            new ProcessBuilder("ip", "netns", "del", namespace).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        }
    }

    /** The VM's whole serial output once it shows the marker the given number of times ("iPXE" banner etc.). */
    private String awaitSerial(Path log, String marker, int iPxeBanners) throws Exception {
        Instant until = Instant.now().plus(WAIT);
        String text = "";
        while (Instant.now().isBefore(until)) {
            text = Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
            if (text.contains(marker) && count(text, "iPXE initialising devices") >= iPxeBanners) {
                return text;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("no '" + marker + "' and " + iPxeBanners + " iPXE banner(s) within " + WAIT
                + " in " + log + ":\n" + text + "\nevents: " + events);
    }

    private static int count(String text, String what) {
        int n = 0;
        for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
            n++;
        }
        return n;
    }

    private List<BootEvent> eventsOf(MacAddress mac) {
        return events.stream().filter(e -> e.mac().equals(mac)).toList();
    }

    private void startVm(String namespace, MacAddress mac, Path script, Path socket, Path serial) throws IOException {
        // ip netns exec execs in place: the PID is QEMU's own.
        start(List.of("ip", "netns", "exec", namespace, "qemu-system-x86_64", "-accel", "tcg", "-m", "256",
                "-nographic", "-monitor", "none", "-serial", "file:" + serial, "-no-reboot",
                "-kernel", IPXE_LKRN.toString(), "-initrd", script.toString(),
                "-nic", "user,model=e1000,mac=" + mac + ",guestfwd=tcp:10.0.2.100:8080-cmd:socat STDIO UNIX-CONNECT:"
                        + socket));
    }

    private void start(List<String> command) throws IOException {
        processes.add(new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("proc-" + processes.size() + ".log").toFile()).start());
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
    }

    private Path random(String name, int size, long seed) throws IOException {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return Files.write(dir.resolve(name), bytes);
    }
}
