package dev.pivot.cli;

import dev.pivot.lab.DemoImage;
import dev.pivot.lab.LabNetwork;
import dev.pivot.lab.PivotHome;
import dev.pivot.lab.ServeProcess;
import dev.pivot.lab.Qemu;
import dev.pivot.server.StateDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
            LabNetwork lab = LabNetwork.create("demo", true);
            labRef.set(lab);
            Path state = Files.createTempDirectory("pvt-demo-state-");
            stateRef.set(state);
            System.out.println("demo: namespace " + lab.namespace().name() + ", server " + LabNetwork.SERVER_ADDRESS
                    + " on " + LabNetwork.BRIDGE);
            // The timeline ends with stage 2's own report, which reaches the server just after the console marker.
            CountDownLatch stage2Reported = new CountDownLatch(1);
            ServeProcess server = ServeProcess.start(lab, home, imageDir, "full", state, line -> {
                System.out.println("serve | " + line);
                if (line.matches(".*\\+\\s*[0-9.]+s\\s+stage2\\s.*")) {
                    stage2Reported.countDown();
                }
            });
            System.out.println("demo: started " + String.join(" ", server.command()) + " (pid " + server.pid() + ")");

            Path serial = lab.workDir().resolve("serial.log");
            try (Qemu vm = Qemu.start(lab.namespace(),
                    Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO, mac, LabNetwork.TAP, serial))) {
                System.out.println("demo: VM " + mac + " started (QEMU pid " + vm.pid() + ", BIOS, virtio NIC)");
                try {
                    Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, Duration.ofSeconds(timeoutSeconds));
                    System.out.println("demo: '" + Qemu.DEFAULT_MARKER + "' after " + Qemu.seconds(took)
                            + " (QEMU start to stage 2)");
                    if (!stage2Reported.await(10, TimeUnit.SECONDS)) {
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
