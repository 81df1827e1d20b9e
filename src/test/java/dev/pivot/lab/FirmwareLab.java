package dev.pivot.lab;

import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.Qemu;
import dev.pivot.demo.ServeProcess;
import dev.pivot.testsupport.Require;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** What the firmware ITs share: the Secure Boot chain from Debian's packages, and one boot of one VM. */
final class FirmwareLab {

    static final String MAC = "52:54:00:77:00:19";

    private FirmwareLab() {
    }

    /** Runs scripts/fetch-boot-loaders.sh (apt-get download + dpkg-deb -x); a failure names the packages. */
    static Path fetchBootLoaders() {
        return fetchBootLoaders(List.of());
    }

    /** The same with the script's options ("--arm64": also the arm64 busybox and GRUB modules). */
    static Path fetchBootLoaders(List<String> options) {
        Path script = Require.pivotRoot().resolve("scripts/fetch-boot-loaders.sh");
        try {
            Path log = Files.createTempFile("pvt-fetch-", ".log");
            List<String> cmd = new java.util.ArrayList<>(List.of("bash", script.toString()));
            cmd.addAll(options);
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            p.getOutputStream().close();
            boolean done = p.waitFor(5, TimeUnit.MINUTES);
            String stdout = done ? new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip() : "";
            String stderr = Files.readString(log, StandardCharsets.UTF_8).strip();
            Files.deleteIfExists(log);
            if (!done) {
                p.destroyForcibly();
                throw new AssertionError("cannot get the boot loaders' packages: " + script + " " + options
                        + " took over 5 min");
            }
            if (p.exitValue() != 0 || stdout.isEmpty()) {
                throw new AssertionError("cannot get the boot loaders' packages (" + script + " " + options + " exit "
                        + p.exitValue() + "): " + stderr);
            }
            return Path.of(stdout.lines().reduce((a, b) -> b).orElseThrow());
        } catch (IOException e) {
            throw new AssertionError("cannot run " + script + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while running " + script, e);
        }
    }

    /**
     * What one boot showed: the server's lines, the VM's console, the time to the awaited condition, and the UDP
     * packets to port 69 (TFTP) the server's namespace received, counted by nftables on its input hook.
     */
    record Outcome(List<String> serverLines, String serial, Duration took, long tftpPackets) {
    }

    private static final String NFT_TABLE = "pvt_count";

    private static void countTftpPackets(LabNetwork lab) {
        lab.namespace().exec("nft", "add", "table", "inet", NFT_TABLE);
        lab.namespace().exec("nft", "add chain inet " + NFT_TABLE + " in { type filter hook input priority 0 ; }");
        lab.namespace().exec("nft", "add", "rule", "inet", NFT_TABLE, "in", "udp", "dport", "69", "counter");
    }

    private static long tftpPackets(LabNetwork lab) {
        String rules = lab.namespace().exec("nft", "list", "chain", "inet", NFT_TABLE, "in");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("udp dport 69 counter packets (\\d+)")
                .matcher(rules);
        if (!m.find()) {
            throw new AssertionError("no TFTP packet counter in the namespace's nftables rules:\n" + rules);
        }
        return Long.parseLong(m.group(1));
    }

    /**
     * Starts `pivot serve IMAGE --dhcp MODE ARGS` and one VM in a fresh lab, waits until the console shows
     * {@code marker} (within {@code limit}), then until {@code serverDone} holds for the server's lines (within 30 s).
     */
    static Outcome boot(String purpose, Path image, Qemu.Boot firmware, String dhcpMode, List<String> serveArgs,
                        Path state, String marker, Duration limit, Predicate<List<String>> serverDone) {
        List<String> serverLines = new CopyOnWriteArrayList<>();
        try (LabNetwork lab = LabNetwork.create(purpose)) {
            if (dhcpMode.equals("proxy")) {
                lab.addPlainDhcpRouter();
            }
            Require.command("nft", "nftables");
            countTftpPackets(lab);
            ServeProcess.start(lab, Require.pivotRoot(), image, dhcpMode, state, serveArgs, line -> {
                serverLines.add(line);
                System.out.println("serve | " + line);
            });
            try (Qemu vm = Qemu.start(lab.namespace(), Qemu.Spec.of(firmware, Qemu.Nic.VIRTIO, MAC,
                    LabNetwork.TAP, lab.workDir().resolve("serial.log")))) {
                Duration took = vm.awaitMarker(marker, limit);
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (!serverDone.test(serverLines)) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("the server did not show what was expected within 30 s:\n"
                                + String.join("\n", serverLines) + "\nconsole:\n" + vm.tail(30));
                    }
                    Thread.sleep(200);
                }
                return new Outcome(List.copyOf(serverLines), vm.serial(), took, tftpPackets(lab));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted", e);
            }
        }
    }

    /** True once the server's timeline shows the machine's stage2 step (from stage 2's report). */
    static boolean stage2Recorded(List<String> lines) {
        return lines.stream().anyMatch(l -> l.contains(MAC) && l.matches(".*\\+\\s*[0-9.]+s\\s+stage2\\s.*"));
    }
}
