package dev.pivot.lab;

import dev.pivot.demo.DemoImage;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.Qemu;
import dev.pivot.demo.ServeProcess;
import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A link without an IPv6 router costs no time: the demo image boots to stage 2 as fast on a lab link where nothing
 * advertises (Pivot answers iPXE's router solicitation) as on one where a peer router (dnsmasq-base in its own
 * namespace) advertises a prefix — and there Pivot stays silent. Same run, the two alternating, three rounds each.
 *
 * <p>Two measures, each compared between the kinds: QEMU start to the script request, where iPXE's wait for IPv6
 * autoconfiguration would fall (median per kind), and QEMU start to stage 2, the measure, as the best boot of
 * each kind: under TCG a kernel boot is now and then seconds slower at random, which only ever adds time, so the
 * fastest boot of each kind is its floor and a wait on the link would raise every boot's.
 */
class Ipv6RouterAdvertisementIT {

    private static final Duration BOOT_LIMIT = Duration.ofSeconds(240);
    /** The bound: no-RA boots within 2 s of boots with an RA. */
    private static final Duration WITHIN = Duration.ofSeconds(2);
    private static final String MAC = "52:54:00:77:00:61";
    private static final int ROUNDS = 3;
    /** The server's timeline line for the script request: {@code ... +   0.1s  script       boot.ipxe ...}. */
    private static final String SCRIPT_STEP = "  script  ";
    private static final String PIVOT_ANSWERED = "there is no IPv6 router";
    private static final String PIVOT_SILENT = "advertises on " + LabNetwork.BRIDGE + ": Pivot stays silent";

    @TempDir
    Path work;

    @Test
    @Timeout(value = 20, unit = java.util.concurrent.TimeUnit.MINUTES)
    void aLinkWithoutRouterAdvertisementsBootsAsFastAsOneWithAndPivotIsSilentBesideARealRouter() throws Exception {
        Require.vmLab();
        Path root = Require.packagedCli();
        Path image = DemoImage.build(root, work.resolve("image"));
        List<Boot> without = new ArrayList<>();
        List<Boot> with = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            boolean peerFirst = round % 2 == 1;
            for (boolean peer : peerFirst ? new boolean[]{true, false} : new boolean[]{false, true}) {
                (peer ? with : without).add(boot(root, image, peer, round));
            }
        }
        Duration scriptWithout = median(without.stream().map(Boot::toScript).toList());
        Duration scriptWith = median(with.stream().map(Boot::toScript).toList());
        Duration bestWithout = best(without.stream().map(Boot::toStage2).toList());
        Duration bestWith = best(with.stream().map(Boot::toStage2).toList());
        System.out.printf("Ipv6RouterAdvertisementIT: QEMU start -> script request, no RA on the link %s (median %s),"
                + " peer router's RA %s (median %s)%n", seconds(without, Boot::toScript), Qemu.seconds(scriptWithout),
                seconds(with, Boot::toScript), Qemu.seconds(scriptWith));
        System.out.printf("Ipv6RouterAdvertisementIT: QEMU start -> stage 2, no RA on the link %s (best %s, median %s),"
                + " peer router's RA %s (best %s, median %s)%n", seconds(without, Boot::toStage2),
                Qemu.seconds(bestWithout), Qemu.seconds(median(without.stream().map(Boot::toStage2).toList())),
                seconds(with, Boot::toStage2), Qemu.seconds(bestWith),
                Qemu.seconds(median(with.stream().map(Boot::toStage2).toList())));
        assertThat(scriptWithout).as("median time to the script request without an RA on the link vs with one (%s)",
                Qemu.seconds(scriptWith)).isLessThanOrEqualTo(scriptWith.plus(WITHIN));
        assertThat(bestWithout).as("best time to stage 2 without an RA on the link vs with one (%s)",
                Qemu.seconds(bestWith)).isLessThanOrEqualTo(bestWith.plus(WITHIN));
    }

    /** One boot's two measures, both from QEMU's start. */
    private record Boot(Duration toScript, Duration toStage2) {
    }

    private Boot boot(Path root, Path image, boolean peerRouter, int round) throws Exception {
        List<String> serverLines = new CopyOnWriteArrayList<>();
        AtomicLong scriptSeenNanos = new AtomicLong();
        Path state = Files.createDirectories(work.resolve("state-" + peerRouter + "-" + round));
        try (LabNetwork lab = LabNetwork.create("ra")) {
            if (peerRouter) {
                Process router = lab.addPeerIpv6Router();
                assertThat(router.isAlive()).as("the peer router (dnsmasq-base) runs").isTrue();
            }
            ServeProcess server = ServeProcess.start(lab, root, image, "full", state, line -> {
                if (line.contains(MAC) && line.contains(SCRIPT_STEP)) {
                    scriptSeenNanos.compareAndSet(0, System.nanoTime());
                }
                serverLines.add(line);
                System.out.println("serve | " + line);
            });
            if (peerRouter) {
                awaitLine(serverLines, PIVOT_SILENT, Duration.ofSeconds(30));
            }
            try (Qemu vm = Qemu.start(lab.namespace(), Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO, MAC,
                    LabNetwork.TAP, lab.workDir().resolve("serial.log")))) {
                Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
                long vmStartedNanos = System.nanoTime() - vm.elapsed().toNanos();
                assertThat(scriptSeenNanos.get()).as("the server logged the machine's script request").isNotZero();
                Duration toScript = Duration.ofNanos(scriptSeenNanos.get() - vmStartedNanos);
                System.out.printf("Ipv6RouterAdvertisementIT: round %d, %s: QEMU start -> script request in %s, "
                        + "-> stage 2 in %s%n", round, peerRouter ? "peer router advertises" : "no router on the link",
                        Qemu.seconds(toScript), Qemu.seconds(took));
                assertThat(vm.serial()).contains("sha256 ok").doesNotContain("pivot: FAILED");
                if (peerRouter) {
                    assertThat(serverLines).as("Pivot sent no advertisement beside a real router")
                            .noneMatch(l -> l.contains(PIVOT_ANSWERED));
                } else {
                    assertThat(serverLines).as("Pivot answered the machine's router solicitation")
                            .anyMatch(l -> l.contains(PIVOT_ANSWERED));
                }
                assertThat(server.isAlive()).isTrue();
                return new Boot(toScript, took);
            }
        }
    }

    private static void awaitLine(List<String> lines, String text, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (lines.stream().anyMatch(l -> l.contains(text))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the server never printed '" + text + "' within " + limit.toSeconds() + " s:\n"
                + String.join("\n", lines));
    }

    private static Duration median(List<Duration> all) {
        List<Duration> sorted = all.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private static Duration best(List<Duration> all) {
        return all.stream().min(Duration::compareTo).orElseThrow();
    }

    private static List<String> seconds(List<Boot> boots, Function<Boot, Duration> measure) {
        return boots.stream().map(measure).map(Qemu::seconds).toList();
    }
}
