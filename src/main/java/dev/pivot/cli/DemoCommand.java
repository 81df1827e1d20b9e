package dev.pivot.cli;

import dev.pivot.demo.DemoImage;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.PivotHome;
import dev.pivot.demo.ServeProcess;
import dev.pivot.demo.Qemu;
import dev.pivot.server.StateDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * `pivot demo`: builds the demo image, starts `pivot serve` inside a throw-away network namespace, and
 * network-boots a QEMU VM from it until the image's stage 2 prints its marker. Nothing leaves the namespace.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Network-boot a QEMU VM from Pivot inside a private network namespace (needs root).")
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--timeout", description = "Seconds to wait for the VM's stage 2 (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds = 240;

    @Option(names = "--mac", description = "The VM's MAC address (default: ${DEFAULT-VALUE}).")
    String mac = "52:54:00:77:00:10";

    @Override
    public Integer call() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            System.err.println("pivot demo: needs root (network namespaces, tap devices); run it with sudo");
            return 2;
        }
        Path home = PivotHome.find();
        Path imageDir = PivotHome.cache().resolve("demo-image");
        System.out.println("demo: building the demo image in " + imageDir);
        DemoImage.build(home, imageDir);

        AtomicReference<LabNetwork> labRef = new AtomicReference<>();
        AtomicReference<Path> stateRef = new AtomicReference<>();
        // Ctrl-C: the JVM runs this hook; close() is idempotent, so the normal path and the hook can both run it.
        Thread hook = new Thread(() -> cleanup(labRef.get(), stateRef.get()));
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            LabNetwork lab = LabNetwork.create("demo");
            labRef.set(lab);
            Path state = Files.createTempDirectory("pvt-demo-state-");
            stateRef.set(state);
            System.out.println("demo: namespace " + lab.namespace().name() + ", server " + LabNetwork.SERVER_ADDRESS
                    + " on " + LabNetwork.BRIDGE);
            ServeProcess server = ServeProcess.start(lab, home, imageDir, "full", state,
                    line -> System.out.println("serve | " + line));
            System.out.println("demo: started " + String.join(" ", server.command()) + " (pid " + server.pid() + ")");

            Path serial = lab.workDir().resolve("serial.log");
            try (Qemu vm = Qemu.start(lab.namespace(),
                    Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO, mac, LabNetwork.TAP, serial))) {
                System.out.println("demo: VM " + mac + " started (QEMU pid " + vm.pid() + ", BIOS, virtio NIC)");
                try {
                    Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, Duration.ofSeconds(timeoutSeconds));
                    System.out.println("demo: '" + Qemu.DEFAULT_MARKER + "' after " + Qemu.seconds(took)
                            + " (QEMU start to stage 2)");
                    // Stage 2's own report reaches the server just after the console marker: ask the API.
                    if (!bootRecorded(lab, mac, Duration.ofSeconds(10))) {
                        System.out.println("demo: stage 2 reached, but its report did not reach the server");
                    }
                    return 0;
                } catch (RuntimeException e) {
                    System.err.println("demo: FAILED: " + e.getMessage());
                    return 1;
                }
            }
        } finally {
            cleanup(labRef.getAndSet(null), stateRef.getAndSet(null));
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running already
            }
        }
    }

    /** True once the server's API shows the machine's last boot as succeeded (stage 2 reported). */
    private static boolean bootRecorded(LabNetwork lab, String mac, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        while (System.nanoTime() < deadline) {
            try {
                String body = lab.namespace().exec("curl", "-s", "--max-time", "2",
                        "http://" + LabNetwork.SERVER_ADDRESS + "/api/v1/machines/" + mac);
                if ("succeeded".equals(json.readTree(body).path("lastBoot").path("state").asText())) {
                    return true;
                }
            } catch (RuntimeException | IOException notYet) {
                // the server may still be writing the report; ask again
            }
            Thread.sleep(200);
        }
        return false;
    }

    private static synchronized void cleanup(LabNetwork lab, Path state) {
        if (lab != null) {
            lab.close();
        }
        if (state != null) {
            try {
                StateDir.deleteTree(state);
            } catch (IOException ignored) {
                // temp leftovers are harmless
            }
        }
    }
}
