package dev.pivot.lab;

import dev.pivot.testsupport.Require;
import dev.pivot.demo.DemoImage;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.Qemu;
import dev.pivot.demo.ServeProcess;
import dev.pivot.testsupport.TestFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which machine boots which image, proven with real VMs: two MACs boot two profiles (one by its group, one by the
 * default), and `pivot assign MAC PROFILE --once` changes exactly one boot. The proof is the kernel command line
 * each VM printed on its console (ignore_loglevel makes the kernel print it): its pivot.sha256= names the root
 * image the server chose for that boot.
 */
class AssignmentIT {

    private static final Duration BOOT_LIMIT = Duration.ofSeconds(240);
    private static final String MAC_A = "52:54:00:77:00:a1";
    private static final String MAC_B = "52:54:00:77:00:b2";
    private static final Pattern ROOT_SHA = Pattern.compile("pivot\\.sha256=([0-9a-f]{64})");

    @TempDir
    static Path shared;
    private static Path mainImage;
    private static Path altImage;
    private static String mainSha;
    private static String altSha;

    @BeforeAll
    static void buildTwoImages() throws Exception {
        Require.vmLab();
        Path root = Require.packagedCli();
        mainImage = DemoImage.build(root, shared.resolve("main"), "--parts", shared.resolve("main-parts").toString());
        // One extra MB in the squashfs: another root image, so another sha256 on the command line.
        altImage = DemoImage.build(root, shared.resolve("alt"), "--extra-mb", "1",
                "--parts", shared.resolve("alt-parts").toString());
        mainSha = TestFiles.sha256(shared.resolve("main-parts/nix-store.squashfs"));
        altSha = TestFiles.sha256(shared.resolve("alt-parts/nix-store.squashfs"));
        assertThat(altSha).isNotEqualTo(mainSha);
    }

    @Test
    void groupsDefaultsAndABootOnceAssignmentEachPickTheImageTheySay(@TempDir Path state) throws Exception {
        Path profiles = state.resolve("profiles.yaml");
        Files.writeString(profiles, """
                profiles:
                  main:
                    image: %s
                    params: [ignore_loglevel]
                  alt:
                    image: %s
                    params: [ignore_loglevel]
                groups:
                  lab-a:
                    profile: alt
                    machines: [%s]
                default: main
                """.formatted(mainImage, altImage, MAC_A));
        List<String> serverLines = new CopyOnWriteArrayList<>();
        try (LabNetwork lab = LabNetwork.create("assign")) {
            ServeProcess server = ServeProcess.start(lab, Require.pivotRoot(), mainImage, "full", state,
                    List.of("--profiles", profiles.toString()), line -> {
                        serverLines.add(line);
                        System.out.println("serve | " + line);
                    });

            assertThat(boot(lab, MAC_A, "a-group", serverLines)).as("A is in group lab-a").isEqualTo(altSha);
            assertThat(boot(lab, MAC_B, "b-default", serverLines)).as("B has no group").isEqualTo(mainSha);

            String assigned = lab.namespace().exec(Require.pivotRoot().resolve("pivot").toString(), "assign",
                    MAC_B, "alt", "--once", "--server", "http://" + LabNetwork.SERVER_ADDRESS,
                    "--token-file", state.resolve("api-token").toString());
            System.out.println("assign | " + assigned.strip());

            assertThat(boot(lab, MAC_B, "b-once", serverLines)).as("B's boot-once assignment").isEqualTo(altSha);
            assertThat(boot(lab, MAC_B, "b-after", serverLines)).as("B after its one boot").isEqualTo(mainSha);
            assertThat(server.isAlive()).isTrue();
        }
    }

    /** Boots one VM to stage 2, waits until the server has its stage-2 report, returns the root sha it was given. */
    private static String boot(LabNetwork lab, String mac, String label, List<String> serverLines) throws Exception {
        long stage2Before = stage2Lines(serverLines, mac);
        Path serial = lab.workDir().resolve("serial-" + label + ".log");
        try (Qemu vm = Qemu.start(lab.namespace(),
                Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO, mac, LabNetwork.TAP, serial))) {
            Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
            System.out.printf("AssignmentIT [%s %s]: QEMU start -> stage 2 in %s%n", label, mac, Qemu.seconds(took));
            // The boot-once assignment ends when the server records stage 2: wait for that report.
            Instant deadline = Instant.now().plusSeconds(20);
            while (stage2Lines(serverLines, mac) == stage2Before && Instant.now().isBefore(deadline)) {
                Thread.sleep(200);
            }
            assertThat(stage2Lines(serverLines, mac)).as("stage 2 reported for " + mac).isGreaterThan(stage2Before);
            Matcher m = ROOT_SHA.matcher(vm.serial());
            assertThat(m.find()).as("kernel command line on %s's console", mac).isTrue();
            return m.group(1);
        }
    }

    private static long stage2Lines(List<String> lines, String mac) {
        return lines.stream().filter(l -> l.contains(mac) && l.matches(".*\\+\\s*[0-9.]+s\\s+stage2\\s.*")).count();
    }
}
