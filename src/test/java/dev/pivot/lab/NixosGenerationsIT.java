package dev.pivot.lab;

import dev.pivot.demo.DemoImage;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.Qemu;
import dev.pivot.demo.ServeProcess;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * NixOS generations over the network, with real VMs: `pivot serve ./result` serves a build (generation 1) and a
 * VM boots it; `result` is replaced by a second build whose stage 2 prints another marker, and with no restart
 * the next boot gets generation 2; `pivot machines` shows the first VM as behind (reboot needed); the boot menu
 * on the serial console lists both generations, and a key typed on the VM's keyboard picks generation 1, which
 * boots; `pivot rollback` makes generation 1 the default for the next boot of every machine.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class NixosGenerationsIT {

    /** Under TCG a boot takes 20-45 s here, plus the menu's wait; the limit leaves room for a loaded machine. */
    private static final Duration BOOT_LIMIT = Duration.ofSeconds(300);
    private static final Duration SERVER_LIMIT = Duration.ofSeconds(90);
    private static final int MENU_SECONDS = 15;
    private static final String MAC_A = "52:54:00:77:18:0a";
    private static final String MAC_B = "52:54:00:77:18:0b";
    private static final String ONE = "PIVOT-DEMO: build gen-one";
    private static final String TWO = "PIVOT-DEMO: build gen-two";

    @TempDir
    static Path work;
    private static Path first;
    private static Path second;

    @BeforeAll
    static void buildTwoGenerations() {
        Require.vmLab();
        Path root = Require.packagedCli();
        first = DemoImage.build(root, work.resolve("first"), "--marker", "gen-one");
        second = DemoImage.build(root, work.resolve("second"), "--marker", "gen-two");
    }

    @Test
    void aNewBuildIsTheNextBootsGenerationTheMenuPicksAnOlderOneAndRollbackMakesItTheDefault() throws Exception {
        Path result = work.resolve("result");
        TestFiles.relink(result, first);
        Path state = work.resolve("state");
        List<String> serverLines = new CopyOnWriteArrayList<>();
        try (LabNetwork lab = LabNetwork.create("gens")) {
            ServeProcess server = ServeProcess.start(lab, Require.pivotRoot(), result, "full", state,
                    List.of("--menu-timeout", Integer.toString(MENU_SECONDS)), line -> {
                        serverLines.add(line);
                        System.out.println("serve | " + line);
                    });
            long pid = server.pid();

            String a1 = boot(lab, MAC_A, "a-first", ONE, null, serverLines);
            assertThat(a1).as("one generation: no menu").doesNotContain("Generation 1, built");

            TestFiles.relink(result, second);
            await(() -> serverLines.stream().anyMatch(l -> l.startsWith("pivot: profile default: generation 2")),
                    "generation 2 imported", serverLines);
            assertThat(server.isAlive()).isTrue();
            assertThat(server.pid()).as("no restart").isEqualTo(pid);

            String b1 = boot(lab, MAC_B, "b-second", TWO, null, serverLines);
            assertThat(b1).as("the menu lists both generations on the serial console")
                    .contains("Generation 2, built").contains("Generation 1, built");
            assertThat(b1).doesNotContain(ONE);

            String machines = pivot(lab, state, "machines");
            System.out.println("pivot machines:\n" + machines);
            assertThat(line(machines, MAC_A)).contains("1 → 2 (reboot needed)");
            assertThat(line(machines, MAC_B)).doesNotContain("reboot needed");
            String metrics = lab.namespace().exec("curl", "-s", "--max-time", "5",
                    "http://" + LabNetwork.SERVER_ADDRESS + "/metrics");
            assertThat(metrics).containsPattern("(?m)^pivot_machines_behind(\\{[^}]*})? 1\\.0$");

            // On the menu, the key "1" picks generation 1.
            String a2 = boot(lab, MAC_A, "a-menu-key", ONE, "1", serverLines);
            assertThat(a2).contains("Generation 2, built").contains("Generation 1, built")
                    .contains("Pivot: booting generation 1").doesNotContain(TWO);

            String rolledBack = pivot(lab, state, "rollback", "default");
            System.out.println("pivot rollback: " + rolledBack.strip());
            assertThat(rolledBack).contains("generation 1 is the default");

            // B ran generation 2; its next boot, untouched, gets generation 1.
            String b2 = boot(lab, MAC_B, "b-after-rollback", ONE, null, serverLines);
            assertThat(b2).contains("Pivot: booting generation 1").doesNotContain(TWO);
            String after = pivot(lab, state, "machines");
            System.out.println("pivot machines after the rollback:\n" + after);
            assertThat(after).doesNotContain("reboot needed");
            assertThat(server.pid()).isEqualTo(pid);
            assertThat(server.isAlive()).isTrue();
        }
    }

    /**
     * Boots one VM until its stage 2 prints {@code marker} and the server records that stage 2; with {@code key},
     * types it once the boot menu is on the serial console. Returns the serial console's text.
     */
    private static String boot(LabNetwork lab, String mac, String label, String marker, String key,
                               List<String> serverLines) throws Exception {
        long stage2Before = stage2Lines(serverLines, mac);
        Path serial = lab.workDir().resolve("serial-" + label + ".log");
        Qemu.Spec spec = Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO, mac, LabNetwork.TAP, serial);
        try (Qemu vm = key == null ? Qemu.start(lab.namespace(), spec)
                : Qemu.startWithMonitor(lab.namespace(), spec, lab.workDir().resolve("monitor-" + label + ".sock"))) {
            if (key != null) {
                Duration menu = vm.awaitMarker("Generation 1, built", BOOT_LIMIT);
                System.out.printf("NixosGenerationsIT [%s]: menu on the serial console after %s; typing '%s'%n",
                        label, Qemu.seconds(menu), key);
                vm.sendKey(key);
            }
            Duration took = vm.awaitMarker(marker, BOOT_LIMIT);
            System.out.printf("NixosGenerationsIT [%s %s]: QEMU start -> '%s' in %s%n", label, mac, marker,
                    Qemu.seconds(took));
            await(() -> stage2Lines(serverLines, mac) > stage2Before, "stage 2 of " + mac + " recorded", serverLines);
            System.out.println("NixosGenerationsIT [" + label + "] console:\n" + vm.tail(25));
            return vm.serial();
        }
    }

    private static String pivot(LabNetwork lab, Path state, String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(Require.pivotRoot().resolve("pivot").toString()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--server", "http://" + LabNetwork.SERVER_ADDRESS,
                "--token-file", state.resolve("api-token").toString()));
        return lab.namespace().exec(cmd.toArray(String[]::new));
    }

    private static String line(String table, String mac) {
        return table.lines().filter(l -> l.startsWith(mac)).findFirst()
                .orElseThrow(() -> new AssertionError(mac + " not in:\n" + table));
    }


    private static long stage2Lines(List<String> lines, String mac) {
        return lines.stream().filter(l -> l.contains(mac) && l.matches(".*\\+\\s*[0-9.]+s\\s+stage2\\s.*")).count();
    }

    private static void await(BooleanSupplier condition, String what, List<String> serverLines)
            throws InterruptedException {
        long deadline = System.nanoTime() + SERVER_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + what + " within " + SERVER_LIMIT.toSeconds() + " s; the server said:\n"
                        + String.join("\n", serverLines));
            }
            Thread.sleep(200);
        }
    }
}
