package dev.pivot.lab;

import com.fasterxml.jackson.databind.JsonNode;

import dev.pivot.testsupport.Lines;
import dev.pivot.testsupport.Require;
import dev.pivot.demo.Commands;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.Qemu;
import dev.pivot.demo.ServeProcess;
import dev.pivot.testsupport.TestFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stage 1 in depth, through `pivot serve` in a private namespace with a QEMU VM (BIOS, virtio): NIC drivers taken
 * from the root image when the initrd has none, a large incompressible root image fetched into a small VM, and a
 * corrupted root image stopped by the sha256 check with a FAILED event at the server.
 */
class Stage1IT {
    private static final Duration BOOT_LIMIT = Duration.ofSeconds(300);
    /** The initrd step's deadline in the native boot: shorter than that boot's way from its last initrd to stage 2. */
    private static final Duration NATIVE_STALL = Duration.ofSeconds(5);
    /** The DHCP step's deadline in the boot whose stage 2 takes its own lease. */
    private static final Duration OS_DHCP_STALL = Duration.ofSeconds(5);
    private static final String VM_MAC = "52:54:00:77:01:41";
    private static final Pattern ROOT_SHA = Pattern.compile("pivot: root image \\S+, (\\d+) bytes, sha256 ([0-9a-f]{64})");

    @TempDir
    static Path shared;

    @BeforeAll
    static void lab() {
        Require.vmLab();
        Require.packagedCli();
    }

    /** The image's own zstd level for the store cpio: 19 (NixOS's) takes minutes on 300 MB of random bytes. */
    private static Path image(String name, String... options) {
        Path out = shared.resolve(name);
        List<String> cmd = new ArrayList<>(List.of("env", "PIVOT_ZSTD_LEVEL=3", "bash",
                Require.pivotRoot().resolve("scripts/make-demo-image.sh").toString()));
        cmd.addAll(List.of(options));
        cmd.add(out.toString());
        Commands.run(cmd);
        return out;
    }

    @Test
    void anInitrdWithoutNicDriverBootsWithTheDriverFromTheRootImage(@TempDir Path state) {
        Path image = image("no-nic", "--no-nic-driver", "--store-modules", "--xz-modules");
        Boot boot = boot("no NIC driver in the initrd", image, state, 768, Qemu.DEFAULT_MARKER, server -> { });
        assertThat(boot.serverLines()).anySatisfy(l -> assertThat(l)
                .startsWith("pivot: stage 1 gets").contains("virtio_net").contains("from the root image"));
        assertThat(boot.serial()).contains("modules: virtio_pci virtio_net").contains("sha256 ok")
                .doesNotContain("pivot: FAILED");
    }

    @Test
    void uefiWithoutNicDriverInTheInitrdToo(@TempDir Path state) {
        Path image = image("no-nic", "--no-nic-driver", "--store-modules", "--xz-modules");
        Boot boot = boot("UEFI, no NIC driver in the initrd", image, state, 768, Qemu.DEFAULT_MARKER, List.of(),
                Qemu.Boot.UEFI_IPXE_ROM, server -> { });
        assertThat(boot.serial()).contains("modules: virtio_pci virtio_net").doesNotContain("pivot: FAILED");
    }

    @Test
    void tooLittleRamForTheRootImageFailsBeforeFetchingWithBothNumbers(@TempDir Path state) {
        Path image = image("big", "--extra-mb", "300");
        Boot boot = boot("300 MB root image, 320 MB RAM", image, state, 320, "pivot: FAILED at", server -> { });
        assertThat(boot.serial().lines().filter(l -> l.contains("pivot: FAILED at")).toList()).singleElement()
                .asString().startsWith("pivot: FAILED at root_fetched: not enough RAM for the root image: it is ")
                // 300 MiB of filler and the demo store (its size moves with what the demo image carries)
                .containsPattern("it is 30[0-9] MiB \\(\\+64 MiB headroom\\), MemAvailable is [0-9]+ MiB");
        awaitLine(boot.serverLines(), l -> l.contains("root_fetched") && l.contains("FAILED: not enough RAM"));
        assertThat(boot.serverLines()).as("no fetch started").noneMatch(l -> l.matches(".*\\sroot_image\\s.*"));
    }

    @Test
    void a300MbIncompressibleRootImageBootsIn768Mb(@TempDir Path state) {
        Path image = image("big", "--extra-mb", "300");
        Boot boot = boot("300 MB incompressible root image, 768 MB RAM", image, state, 768, Qemu.DEFAULT_MARKER,
                server -> { });
        assertThat(boot.rootSize()).isGreaterThan(300L << 20);
        assertThat(boot.serial()).contains("pivot: fetching root image, ").contains("sha256 ok")
                .doesNotContain("pivot: FAILED");
        // Stage 1 prints its progress every 3 s of a fetch: a fetch that took that long must have shown it.
        java.util.regex.Matcher took = java.util.regex.Pattern.compile("bytes fetched in ([0-9.]+)s")
                .matcher(boot.serial());
        assertThat(took.find()).as("stage 1 says how long the fetch took").isTrue();
        if (Double.parseDouble(took.group(1)) >= 3.5) {
            assertThat(boot.serial()).containsPattern("pivot: fetch \\d+/\\d+ MiB");
        }
    }

    /**
     * The server goes away in the middle of a 300 MB fetch and comes back: stage 1 retries and resumes the
     * transfer where it stopped (wget -c, an HTTP Range request) instead of starting over, then boots.
     */
    @Test
    void aFetchCutByAServerRestartResumes(@TempDir Path state) throws Exception {
        Path image = image("big", "--extra-mb", "300");
        List<String> serverLines = new CopyOnWriteArrayList<>();
        Consumer<String> output = line -> {
            serverLines.add(line);
            System.out.println("serve | " + line);
        };
        try (LabNetwork lab = LabNetwork.create("s1")) {
            ServeProcess first = ServeProcess.start(lab, Require.pivotRoot(), image, "full", state, output);
            // ~15 MB/s from the server (nftables drops what is over), so the cut lands mid-transfer on a fast host too.
            lab.namespace().exec("nft", "add", "table", "inet", "pivotlab");
            lab.namespace().exec("nft", "add", "chain", "inet", "pivotlab", "out", "{", "type", "filter", "hook",
                    "output", "priority", "0", ";", "}");
            lab.namespace().exec("nft", "add", "rule", "inet", "pivotlab", "out", "tcp", "sport", "80", "limit", "rate",
                    "over", "15", "mbytes/second", "drop");
            try (Qemu vm = Qemu.start(lab.namespace(), new Qemu.Spec(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO,
                    "52:54:00:77:01:42", LabNetwork.TAP, 768, lab.workDir().resolve("serial.log")))) {
                awaitPartialFetch(vm);
                ProcessHandle.of(first.pid()).ifPresent(ProcessHandle::destroy);
                ProcessHandle.of(first.pid()).ifPresent(p -> p.onExit().join());
                System.out.println("Stage1IT: pivot serve stopped in the middle of the fetch");
                ServeProcess second = ServeProcess.start(lab, Require.pivotRoot(), image, "full", state, output);
                Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
                System.out.printf("Stage1IT [fetch cut by a server restart]: QEMU start -> '%s' in %s%n",
                        Qemu.DEFAULT_MARKER, Qemu.seconds(took));
                assertThat(vm.serial()).contains("resuming").contains("sha256 ok").doesNotContain("pivot: FAILED");
                // The second server sent only the rest: a Range answer ("bytes N-M/TOTAL"), not the whole image.
                assertThat(serverLines).anySatisfy(l -> assertThat(l).contains("root_image")
                        .containsPattern("bytes [1-9]\\d*-\\d+/\\d+"));
                assertThat(second.isAlive()).isTrue();
            }
        }
    }

    private static final Pattern PROGRESS = Pattern.compile("pivot: fetch (\\d+)/(\\d+) MiB \\((\\d+)%\\)");

    /** Until the console shows the fetch under way but not finished. */
    private static void awaitPartialFetch(Qemu vm) throws InterruptedException {
        long until = System.nanoTime() + BOOT_LIMIT.toNanos();
        while (System.nanoTime() < until) {
            Matcher m = PROGRESS.matcher(vm.serial());
            while (m.find()) {
                int percent = Integer.parseInt(m.group(3));
                assertThat(percent).as("the fetch finished before the server could be stopped").isLessThan(100);
                if (percent >= 5) {
                    return;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no fetch progress on the console:\n" + vm.tail(30));
    }

    @Test
    void aCorruptedRootImageStopsAtTheSha256CheckAndTheServerSeesIt(@TempDir Path state) {
        Path image = image("plain");
        Boot boot = boot("corrupted root image", image, state, 768, "pivot: FAILED at", server -> {
            // After the import (and its check): one byte of the stored squashfs flips, as a bad disk would.
            Path object = state.resolve("artifacts/objects").resolve(server.rootSha);
            TestFiles.flipMiddleByte(object);
        });
        assertThat(boot.serial().lines().filter(l -> l.contains("pivot: FAILED at")).toList())
                .singleElement().asString().startsWith("pivot: FAILED at root_fetched: sha256 mismatch");
        assertThat(boot.serial()).doesNotContain(Qemu.DEFAULT_MARKER);
        awaitLine(boot.serverLines(), l -> l.contains("root_fetched") && l.contains("FAILED: sha256 mismatch"));
    }

    @Test
    void aGenericImageBootsOnAnOverlayRootThatPivotBuilds(@TempDir Path state) throws IOException {
        // Kernel and initrd (with loop, squashfs, overlay and the NIC driver) from the demo build; the root is a
        // plain file system with /sbin/init, no /nix and no stage 1 of its own.
        Path parts = shared.resolve("generic-parts");
        Path demo = image("generic-demo", "--parts", parts.toString());
        Path dir = Files.createDirectories(shared.resolve("generic"));
        Files.copy(demo.resolve("bzImage"), dir.resolve("vmlinuz"));
        Files.copy(parts.resolve("stage1.cpio.gz"), dir.resolve("initrd"));
        Path tree = Files.createDirectories(shared.resolve("generic-root"));
        for (String d : List.of("bin", "sbin", "etc", "proc", "sys", "dev", "run", "tmp")) {
            Files.createDirectories(tree.resolve(d));
        }
        Files.copy(Path.of("/bin/busybox"), tree.resolve("bin/busybox"));
        Path init = tree.resolve("sbin/init");
        Files.writeString(init, """
                #!/bin/busybox sh
                bb=/bin/busybox
                root="$($bb awk '$2 == "/" {print $3}' /proc/mounts | $bb tail -n 1)"
                if $bb touch /etc/pivot-written; then w=writable; else w=read-only; fi
                echo "PIVOT-GENERIC: stage 2 reached, / is $root, $w" > /dev/console
                $bb sync
                $bb poweroff -f
                """);
        Files.setPosixFilePermissions(init, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Commands.run(List.of("mksquashfs", tree.toString(), dir.resolve("root.squashfs").toString(), "-comp", "zstd",
                "-all-root", "-noappend", "-quiet", "-no-progress"));
        Files.writeString(dir.resolve("pivot.yaml"), "# a generic image\ncmdline: console=ttyS0 loglevel=4\n");

        Boot boot = boot("generic image, overlay root", dir, state, 768, "PIVOT-GENERIC: stage 2 reached",
                server -> { });
        assertThat(boot.serial()).contains("pivot: overlay root ready, switch_root to /sbin/init")
                .contains("PIVOT-GENERIC: stage 2 reached, / is overlay, writable").doesNotContain("pivot: FAILED");
        awaitLine(boot.serverLines(), l -> l.contains("handover") && l.contains("switch_root to /sbin/init"));
    }

    @Test
    void nativeModeHandsTheRootImageToTheImagesOwnStage1AsASecondInitrd(@TempDir Path state) {
        Path image = image("plain");
        // The image's own stage 1 reports nothing: its boot ends, for Pivot, with the root image's initrd, and must
        // rest there, not turn stalled once the initrd step's deadline (shortened here) has passed.
        Boot boot = boot("--stage1 native", image, state, 768, Qemu.DEFAULT_MARKER,
                List.of("--stage1", "native", "--stall-after", "initrd=" + NATIVE_STALL.toSeconds()),
                Qemu.Boot.BIOS_IPXE_ROM, server -> { }, (lab, lines) -> pause(NATIVE_STALL.plusSeconds(4)));
        assertThat(boot.serverLines()).anySatisfy(l -> assertThat(l).startsWith("pivot: WARNING --stage1 native:")
                .contains("MiB of RAM"));
        assertThat(boot.serverLines()).anySatisfy(l -> assertThat(l).contains("initrd").contains("nix-store.cpio"));
        assertThat(boot.serial()).contains("NixOS Stage 1").doesNotContain("pivot: stage 1 prelude");
        assertThat(boot.serverLines()).as("a native boot's session after its last initrd")
                .noneSatisfy(l -> assertThat(l).containsIgnoringCase("stalled"))
                .anySatisfy(l -> assertThat(l).contains("handover").contains("without Pivot's stage 1"));
    }

    @Test
    void theBootedSystemsOwnDhcpStaysInItsBootWhichIsHandedOverAndNeverStalls(@TempDir Path state) {
        // As a NixOS system with dhcpcd and no report of its own: after the hand-over, stage 2 asks Pivot's DHCP for
        // its lease as a plain client. That lease belongs to this boot: no new session, no stall on it (the DHCP
        // step's deadline is shortened here), and the boot reads "handed over".
        Path image = image("stage2-dhcp", "--stage2-dhcp");
        JsonNode[] sessions = new JsonNode[1];
        Boot boot = boot("stage 2 takes its own lease", image, state, 768, "PIVOT-DEMO: stage 2 lease",
                List.of("--stall-after", "dhcp=" + OS_DHCP_STALL.toSeconds()), Qemu.Boot.BIOS_IPXE_ROM, server -> { },
                (lab, lines) -> {
                    pause(OS_DHCP_STALL.plusSeconds(4)); // the watch looks every second
                    sessions[0] = readJson(lab.namespace().exec("curl", "-s", "--max-time", "5", "http://"
                            + LabNetwork.SERVER_ADDRESS + "/api/v1/sessions?mac=" + VM_MAC));
                });
        assertThat(boot.serial()).contains("PIVOT-DEMO: stage 2 reached").doesNotContain("got no lease");
        JsonNode all = sessions[0];
        assertThat(all).as("one boot, one session: %s", all).hasSize(1);
        JsonNode session = all.get(0);
        assertThat(session.get("state").asText()).isEqualTo("handed_over");
        List<String> steps = new ArrayList<>();
        session.get("events").forEach(e -> steps.add(e.get("step").asText()));
        assertThat(steps).containsSubsequence("dhcp", "script", "kernel", "stage1", "root_fetched", "handover", "dhcp")
                .doesNotContain("stalled").last().isEqualTo("dhcp");
        JsonNode osLease = session.get("events").get(steps.size() - 1);
        assertThat(osLease.get("dhcp").asText()).as("the system's own lease").isEqualTo("ack");
        assertThat(osLease.has("file") && !osLease.get("file").isNull()).as("no boot file for a plain client")
                .isFalse();
    }

    private static void pause(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static JsonNode readJson(String body) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    record Served(String rootSha, long rootSize) {
    }

    record Boot(List<String> serverLines, String serial, long rootSize) {
    }

    private static Boot boot(String what, Path image, Path state, int memoryMb, String marker,
                             Consumer<Served> afterStart) {
        return boot(what, image, state, memoryMb, marker, List.of(), Qemu.Boot.BIOS_IPXE_ROM, afterStart);
    }

    private static Boot boot(String what, Path image, Path state, int memoryMb, String marker, List<String> serveArgs,
                             Consumer<Served> afterStart) {
        return boot(what, image, state, memoryMb, marker, serveArgs, Qemu.Boot.BIOS_IPXE_ROM, afterStart);
    }

    private static Boot boot(String what, Path image, Path state, int memoryMb, String marker, List<String> serveArgs,
                             Qemu.Boot firmware, Consumer<Served> afterStart) {
        return boot(what, image, state, memoryMb, marker, serveArgs, firmware, afterStart, (lab, lines) -> { });
    }

    /** {@code afterMarker} runs once the marker is seen, with the server still up (given its output so far). */
    private static Boot boot(String what, Path image, Path state, int memoryMb, String marker, List<String> serveArgs,
                             Qemu.Boot firmware, Consumer<Served> afterStart,
                             java.util.function.BiConsumer<LabNetwork, List<String>> afterMarker) {
        List<String> serverLines = new CopyOnWriteArrayList<>();
        try (LabNetwork lab = LabNetwork.create("s1")) {
            ServeProcess server = ServeProcess.start(lab, Require.pivotRoot(), image, "full", state, serveArgs,
                    line -> {
                serverLines.add(line);
                System.out.println("serve | " + line);
            });
            String rootLine = awaitLine(serverLines, l -> ROOT_SHA.matcher(l).find());
            Matcher m = ROOT_SHA.matcher(rootLine);
            assertThat(m.find()).isTrue();
            Served served = new Served(m.group(2), Long.parseLong(m.group(1)));
            afterStart.accept(served);
            try (Qemu vm = Qemu.start(lab.namespace(), new Qemu.Spec(firmware, Qemu.Nic.VIRTIO,
                    VM_MAC, LabNetwork.TAP, memoryMb, lab.workDir().resolve("serial.log")))) {
                Duration took = vm.awaitMarker(marker, BOOT_LIMIT);
                System.out.printf("Stage1IT [%s]: QEMU start -> '%s' in %s%n", what, marker, Qemu.seconds(took));
                assertThat(server.isAlive()).as("pivot serve still running after the boot").isTrue();
                if (marker.startsWith("pivot: FAILED")) {
                    // let the failure report reach the server before the namespace goes
                    awaitLine(serverLines, l -> l.contains("FAILED"));
                }
                afterMarker.accept(lab, serverLines);
                return new Boot(serverLines, vm.serial(), served.rootSize());
            }
        }
    }

    private static String awaitLine(List<String> lines, java.util.function.Predicate<String> match) {
        try {
            return Lines.await(lines, 90, match, "in the serve output");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for a line in the serve output", e);
        }
    }
}
