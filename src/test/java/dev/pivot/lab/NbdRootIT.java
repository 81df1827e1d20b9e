package dev.pivot.lab;

import dev.pivot.demo.Commands;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.Qemu;
import dev.pivot.demo.ServeProcess;
import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The root image over NBD, through `pivot serve --root-transport nbd` in a private namespace with a QEMU VM (BIOS,
 * virtio): a 4 GiB incompressible root image boots in a 1 GiB VM (and is refused over HTTP for want of RAM), as
 * fast as a 10 MiB one, and stage 2 keeps running across a SIGKILL and restart of pivot serve, reading correct
 * bytes afterwards.
 *
 * <p>The images are generic ones (kernel and stage-1 initrd from the demo build, a squashfs root made here) whose
 * root holds the nbd module under /usr/lib/modules, as a distribution's root does: Pivot takes it from there for
 * stage 1. The 4 GiB of random bytes are made by mksquashfs itself from /dev/urandom (a pseudo file, stored
 * uncompressed), so no second copy is written; the work directory is deleted after the class.
 */
@Timeout(value = 30, unit = TimeUnit.MINUTES)
class NbdRootIT {
    private static final Duration BOOT_LIMIT = Duration.ofSeconds(300);
    private static final String MARKER = "PIVOT-NBD: stage 2 reached";
    private static final String DONE = "PIVOT-NBD: done";
    private static final Pattern ROOT_SHA = Pattern.compile("pivot: root image \\S+, (\\d+) bytes, sha256 ([0-9a-f]{64})");
    private static final long GIB = 1L << 30;

    static Path shared;
    static Path kernelAndInitrd;
    static String bSha256;
    static Path big;
    static Path small;
    /** One state directory for every boot: the 4 GiB image is imported (copied into the store) once. */
    static Path state;

    @BeforeAll
    static void images() throws Exception {
        Require.vmLab();
        Require.packagedCli();
        Require.command("mksquashfs", "squashfs-tools");
        Require.command("depmod", "kmod");
        shared = Files.createTempDirectory("pvt-nbdroot-");
        state = Files.createDirectories(shared.resolve("state"));
        kernelAndInitrd = shared.resolve("parts");
        Commands.run(List.of("env", "PIVOT_ZSTD_LEVEL=3", "bash",
                Require.pivotRoot().resolve("scripts/make-demo-image.sh").toString(), "--parts",
                kernelAndInitrd.toString(), shared.resolve("demo").toString()));
        Path b = shared.resolve("b.bin");
        writeRandom(b, 64L << 20);
        bSha256 = sha256(b);
        // 4 GiB and a bit: a (1 GiB, read while pivot serve is killed), b (64 MiB, read after), the rest filler.
        big = image("big", List.of("data/a f 444 0 0 head -c " + GIB + " /dev/urandom",
                "data/filler f 444 0 0 head -c " + (3 * GIB) + " /dev/urandom"), b);
        small = image("small", List.of("data/filler f 444 0 0 head -c " + (10L << 20) + " /dev/urandom"), null);
        Files.delete(b);
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (shared == null) {
            return;
        }
        try (Stream<Path> all = Files.walk(shared)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void a4GibRootImageBootsIn1GibOverNbdAndIsRefusedOverHttp() {
        Boot nbd = boot("4 GiB over NBD, 1 GiB RAM", big, 1024, DONE, List.of("--root-transport", "nbd"),
                vm -> { });
        assertThat(nbd.rootSize()).isGreaterThan(4 * GIB);
        assertThat(nbd.serial()).contains("pivot: attaching root image").contains("read on demand")
                .contains("pivot: overlay root ready").contains(MARKER).doesNotContain("pivot: FAILED")
                .doesNotContain("not enough RAM");
        awaitLine(nbd.serverLines(), l -> l.contains("root_image") && l.contains("nbd: export")
                && l.contains("attached"));
        awaitLine(nbd.serverLines(), l -> l.contains("root_fetched") && l.contains("attached over NBD"));

        Boot http = boot("4 GiB over HTTP, 1 GiB RAM", big, 1024, "pivot: FAILED at", List.of(), vm -> { });
        assertThat(http.serial().lines().filter(l -> l.contains("pivot: FAILED at")).toList()).singleElement()
                .asString().startsWith("pivot: FAILED at root_fetched: not enough RAM for the root image: it is 4");
    }

    @Test
    void stage2With4GibIsReachedWithin2SecondsOfTheBootWith10Mib() {
        Boot smallBoot = boot("10 MiB over NBD", small, 1024, MARKER, List.of("--root-transport", "nbd"), vm -> { });
        Boot bigBoot = boot("4 GiB over NBD", big, 1024, MARKER, List.of("--root-transport", "nbd"), vm -> { });
        System.out.printf("NbdRootIT: QEMU start -> stage 2: 10 MiB image %s, 4 GiB image %s%n",
                Qemu.seconds(smallBoot.took()), Qemu.seconds(bigBoot.took()));
        assertThat(smallBoot.rootSize()).isLessThan(16L << 20);
        assertThat(bigBoot.took().minus(smallBoot.took()).abs()).isLessThanOrEqualTo(Duration.ofSeconds(2));
    }

    /**
     * Stage 2 reads 1 GiB of the image while pivot serve is killed with SIGKILL and started again; the VM runs on,
     * nbd-client reconnects, and the sha256 of a file stage 2 reads after the restart is the file's.
     */
    @Test
    void stage2SurvivesSigkillOfPivotServeAndReadsCorrectBytesAfterTheRestart() throws Exception {
        List<String> serverLines = new CopyOnWriteArrayList<>();
        Consumer<String> output = line -> {
            serverLines.add(line);
            System.out.println("serve | " + line);
        };
        List<String> args = List.of("--root-transport", "nbd");
        try (LabNetwork lab = LabNetwork.create("nbd", true)) {
            Path killImage = withCmdline(big, "kill", "console=ttyS0 loglevel=4 pvt.kill");
            ServeProcess first = ServeProcess.start(lab, Require.pivotRoot(), killImage, "full", state, args,
                    output);
            try (Qemu vm = Qemu.start(lab.namespace(), new Qemu.Spec(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO,
                    "52:54:00:77:14:43", LabNetwork.TAP, 1024, lab.workDir().resolve("serial.log")))) {
                vm.awaitMarker("PIVOT-NBD: reading /data/a", BOOT_LIMIT);
                ProcessHandle server = ProcessHandle.of(first.pid()).orElseThrow();
                server.destroyForcibly(); // SIGKILL: no shutdown hook, connections cut without a goodbye
                server.onExit().get(30, TimeUnit.SECONDS);
                System.out.println("NbdRootIT: pivot serve killed (SIGKILL) while stage 2 reads /data/a");
                ServeProcess second = ServeProcess.start(lab, Require.pivotRoot(), killImage, "full", state, args,
                        output);
                vm.awaitMarker(DONE, BOOT_LIMIT);
                String serial = vm.serial();
                Matcher sum = Pattern.compile("PIVOT-NBD: sha256 /data/b ([0-9a-f]{64})").matcher(serial);
                assertThat(sum.find()).as("stage 2 printed the sha256 of /data/b:\n" + vm.tail(30)).isTrue();
                assertThat(sum.group(1)).isEqualTo(bSha256);
                assertThat(serial).contains("PIVOT-NBD: server back (seen down: 1)");
                assertThat(second.isAlive()).isTrue();
                // the restarted server saw nbd-client come back
                awaitLine(serverLines.subList(serverLines.indexOf(serverLines.stream()
                        .filter(l -> l.contains("pivot: waiting for machines")).reduce((x, y) -> y).orElseThrow()),
                        serverLines.size()), l -> l.contains("root_image") && l.contains("attached"));
                System.out.println("NbdRootIT: after the restart: " + serial.lines()
                        .filter(l -> l.startsWith("PIVOT-NBD")).toList());
            }
        }
    }

    // ---- images ---------------------------------------------------------------------------------------------

    /** A generic image: the demo's kernel and stage-1 initrd, a root of busybox, the nbd module, init, data. */
    private static Path image(String name, List<String> pseudoFiles, Path b) throws Exception {
        Path dir = Files.createDirectories(shared.resolve(name));
        Files.copy(shared.resolve("demo/bzImage"), dir.resolve("vmlinuz"));
        Files.copy(kernelAndInitrd.resolve("stage1.cpio.gz"), dir.resolve("initrd"));
        Path tree = Files.createDirectories(shared.resolve(name + "-root"));
        for (String d : List.of("bin", "sbin", "etc", "proc", "sys", "dev", "run", "tmp", "data", "usr/lib")) {
            Files.createDirectories(tree.resolve(d));
        }
        Files.createSymbolicLink(tree.resolve("lib"), Path.of("usr/lib"));
        Files.copy(Path.of("/bin/busybox"), tree.resolve("bin/busybox"));
        Path kernelModules;
        try (Stream<Path> k = Files.list(Path.of("/var/cache/pivot/kernel"))) {
            kernelModules = k.map(p -> p.resolve("lib/modules")).filter(Files::isDirectory).findFirst()
                    .orElseThrow(() -> new AssertionError("no kernel in /var/cache/pivot/kernel"));
        }
        String release;
        try (Stream<Path> r = Files.list(kernelModules)) {
            release = r.findFirst().orElseThrow().getFileName().toString();
        }
        Path nbd = tree.resolve("usr/lib/modules/" + release + "/kernel/drivers/block/nbd.ko");
        Files.createDirectories(nbd.getParent());
        Files.copy(kernelModules.resolve(release + "/kernel/drivers/block/nbd.ko"), nbd);
        Commands.run(List.of("depmod", "-b", tree.toString(), release));
        Path init = tree.resolve("sbin/init");
        Files.writeString(init, STAGE2);
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (b != null) {
            Files.copy(b, tree.resolve("data/b"));
        }
        List<String> cmd = new ArrayList<>(List.of("mksquashfs", tree.toString(), dir.resolve("root.squashfs").toString(),
                "-comp", "gzip", "-noD", "-all-root", "-noappend", "-quiet", "-no-progress"));
        for (String p : pseudoFiles) {
            cmd.addAll(List.of("-p", p));
        }
        Commands.run(cmd);
        Files.writeString(dir.resolve("pivot.yaml"), "# a generic image\ncmdline: console=ttyS0 loglevel=4\n");
        deleteTree(tree);
        return dir;
    }

    /** The same image (hard links: the same bytes, the same sha256s) with other kernel parameters. */
    private static Path withCmdline(Path image, String name, String cmdline) throws IOException {
        Path dir = shared.resolve(image.getFileName() + "-" + name);
        if (!Files.exists(dir)) {
            Files.createDirectories(dir);
            for (String f : List.of("vmlinuz", "initrd", "root.squashfs")) {
                Files.createLink(dir.resolve(f), image.resolve(f));
            }
            Files.writeString(dir.resolve("pivot.yaml"), "cmdline: " + cmdline + "\n");
        }
        return dir;
    }

    /**
     * Stage 2: prints the marker; with pvt.kill on the command line it reads /data/a in the background, waits
     * until the server is seen gone and back (pivot.url answers again), then prints the sha256 of /data/b, which
     * nothing read before. Then it powers off.
     */
    private static final String STAGE2 = """
            #!/bin/busybox sh
            bb=/bin/busybox
            echo "PIVOT-NBD: stage 2 reached, / is $($bb awk '$2 == "/" {print $3}' /proc/mounts | $bb tail -n 1)" > /dev/console
            url=""
            for w in $($bb cat /proc/cmdline); do case "$w" in pivot.url=*) url="${w#pivot.url=}" ;; esac; done
            if $bb grep -q pvt.kill /proc/cmdline; then
              ( $bb dd if=/data/a of=/dev/null bs=1M 2>/tmp/a.err; echo "PIVOT-NBD: read of /data/a ended ($?): $($bb tail -n 1 /tmp/a.err)" > /dev/console ) &
              echo "PIVOT-NBD: reading /data/a" > /dev/console
              down=0; n=0
              while [ $n -lt 600 ]; do
                if $bb timeout 2 $bb wget -q -O /dev/null "$url/"; then [ $down = 1 ] && break; else down=1; fi
                $bb sleep 0.5; n=$((n + 1))
              done
              echo "PIVOT-NBD: server back (seen down: $down)" > /dev/console
              echo "PIVOT-NBD: sha256 /data/b $($bb sha256sum /data/b | $bb cut -d' ' -f1)" > /dev/console
              wait
            fi
            echo "PIVOT-NBD: done" > /dev/console
            $bb sync
            $bb poweroff -f
            """;

    // ---- helpers ---------------------------------------------------------------------------------------------

    record Boot(List<String> serverLines, String serial, long rootSize, Duration took) {
    }

    private static Boot boot(String what, Path image, int memoryMb, String marker, List<String> serveArgs,
                             Consumer<Qemu> whileRunning) {
        List<String> serverLines = new CopyOnWriteArrayList<>();
        try (LabNetwork lab = LabNetwork.create("nbd", true)) {
            ServeProcess server = ServeProcess.start(lab, Require.pivotRoot(), image, "full", state, serveArgs,
                    line -> {
                        serverLines.add(line);
                        System.out.println("serve | " + line);
                    });
            String rootLine = awaitLine(serverLines, l -> ROOT_SHA.matcher(l).find());
            Matcher m = ROOT_SHA.matcher(rootLine);
            assertThat(m.find()).isTrue();
            try (Qemu vm = Qemu.start(lab.namespace(), new Qemu.Spec(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO,
                    "52:54:00:77:14:41", LabNetwork.TAP, memoryMb, lab.workDir().resolve("serial.log")))) {
                Duration took = vm.awaitMarker(marker, BOOT_LIMIT);
                whileRunning.accept(vm);
                System.out.printf("NbdRootIT [%s]: QEMU start -> '%s' in %s%n", what, marker, Qemu.seconds(took));
                assertThat(server.isAlive()).as("pivot serve still running after the boot").isTrue();
                if (marker.startsWith("pivot: FAILED")) {
                    awaitLine(serverLines, l -> l.contains("FAILED"));
                }
                return new Boot(serverLines, vm.serial(), Long.parseLong(m.group(1)), took);
            }
        }
    }

    private static String awaitLine(List<String> lines, Predicate<String> match) {
        long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (System.nanoTime() < until) {
            for (String l : lines) {
                if (match.test(l)) {
                    return l;
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new AssertionError("no such line in the serve output:\n" + String.join("\n", lines));
    }

    private static void writeRandom(Path file, long size) throws IOException {
        Random random = new Random(14);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(file)) {
            for (long left = size; left > 0; left -= chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, (int) Math.min(left, chunk.length));
            }
        }
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] b = new byte[1 << 16];
            for (int n; (n = in.read(b)) > 0; ) {
                d.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
