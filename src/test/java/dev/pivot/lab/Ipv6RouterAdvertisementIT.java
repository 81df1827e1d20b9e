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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A link without an IPv6 router costs no time: the demo image boots to stage 2 as fast on a lab link where nothing
 * advertises (Pivot answers iPXE's router solicitation) as on one where a peer router (dnsmasq-base in its own
 * namespace) advertises a prefix — and there Pivot stays silent. Same run, the two alternating, two rounds each.
 */
class Ipv6RouterAdvertisementIT {

    private static final Duration BOOT_LIMIT = Duration.ofSeconds(240);
    /** The bound: no-RA boots within 2 s of boots with an RA. */
    private static final Duration WITHIN = Duration.ofSeconds(2);
    private static final String MAC = "52:54:00:77:00:61";
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
        List<Duration> without = new ArrayList<>();
        List<Duration> with = new ArrayList<>();
        for (int round = 0; round < 2; round++) {
            boolean peerFirst = round % 2 == 1;
            for (boolean peer : peerFirst ? new boolean[]{true, false} : new boolean[]{false, true}) {
                Duration took = boot(root, image, peer, round);
                (peer ? with : without).add(took);
            }
        }
        Duration meanWithout = mean(without);
        Duration meanWith = mean(with);
        System.out.printf("Ipv6RouterAdvertisementIT: QEMU start -> stage 2, no RA on the link %s (mean %s), "
                + "peer router's RA %s (mean %s)%n", without.stream().map(Qemu::seconds).toList(),
                Qemu.seconds(meanWithout), with.stream().map(Qemu::seconds).toList(), Qemu.seconds(meanWith));
        assertThat(meanWithout).as("mean boot without an RA on the link vs with one (%s)", meanWith)
                .isLessThanOrEqualTo(meanWith.plus(WITHIN));
    }

    private Duration boot(Path root, Path image, boolean peerRouter, int round) throws Exception {
        List<String> serverLines = new CopyOnWriteArrayList<>();
        Path state = Files.createDirectories(work.resolve("state-" + peerRouter + "-" + round));
        try (LabNetwork lab = LabNetwork.create("ra")) {
            if (peerRouter) {
                Process router = lab.addPeerIpv6Router();
                assertThat(router.isAlive()).as("the peer router (dnsmasq-base) runs").isTrue();
            }
            ServeProcess server = ServeProcess.start(lab, root, image, "full", state, line -> {
                serverLines.add(line);
                System.out.println("serve | " + line);
            });
            if (peerRouter) {
                awaitLine(serverLines, PIVOT_SILENT, Duration.ofSeconds(30));
            }
            try (Qemu vm = Qemu.start(lab.namespace(), Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO, MAC,
                    LabNetwork.TAP, lab.workDir().resolve("serial.log")))) {
                Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
                System.out.printf("Ipv6RouterAdvertisementIT: round %d, %s: QEMU start -> stage 2 in %s%n", round,
                        peerRouter ? "peer router advertises" : "no router on the link", Qemu.seconds(took));
                assertThat(vm.serial()).contains("sha256 ok").doesNotContain("pivot: FAILED");
                if (peerRouter) {
                    assertThat(serverLines).as("Pivot sent no advertisement beside a real router")
                            .noneMatch(l -> l.contains(PIVOT_ANSWERED));
                } else {
                    assertThat(serverLines).as("Pivot answered the machine's router solicitation")
                            .anyMatch(l -> l.contains(PIVOT_ANSWERED));
                }
                assertThat(server.isAlive()).isTrue();
                return took;
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

    private static Duration mean(List<Duration> all) {
        return all.stream().reduce(Duration.ZERO, Duration::plus).dividedBy(all.size());
    }
}
