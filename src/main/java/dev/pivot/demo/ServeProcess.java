package dev.pivot.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * `pivot serve` run as a child process inside the lab namespace, bound to the lab bridge (10.77.0.1). Its
 * output (the boot timeline) goes to a line consumer; it ends with the namespace, by its PID.
 */
public final class ServeProcess {
    private final Process process;
    private final List<String> command;

    private ServeProcess(Process process, List<String> command) {
        this.process = process;
        this.command = command;
    }

    /** `dhcpMode` is `full` (Pivot hands out the range) or `proxy` (a router's DHCP is beside it). */
    public static ServeProcess start(LabNetwork lab, Path pivotHome, Path imageDir, String dhcpMode, Path stateDir,
                                    Consumer<String> output) {
        return start(lab, pivotHome, imageDir, dhcpMode, stateDir, List.of(), output);
    }

    /** With more `pivot serve` options (e.g. `--stage1 native`). */
    public static ServeProcess start(LabNetwork lab, Path pivotHome, Path imageDir, String dhcpMode, Path stateDir,
                                    List<String> extraArgs, Consumer<String> output) {
        return serving(lab, pivotHome, List.of(imageDir.toString()), dhcpMode, stateDir, extraArgs, output);
    }

    /** Run by {@code pivot}, the command that starts the CLI (e.g. an installed /usr/bin/pivot under setpriv). */
    public static ServeProcess start(LabNetwork lab, List<String> pivot, Path imageDir, String dhcpMode,
                                    Path stateDir, List<String> extraArgs, Consumer<String> output) {
        return serving(lab, pivot, List.of(imageDir.toString()), dhcpMode, stateDir, extraArgs, output);
    }

    /** `source` is what `pivot serve` is told to serve: a DIR, or `--kernel K --initrd I --cmdline …`. */
    public static ServeProcess serving(LabNetwork lab, Path pivotHome, List<String> source, String dhcpMode,
                                       Path stateDir, List<String> extraArgs, Consumer<String> output) {
        return serving(lab, List.of(pivotHome.resolve("pivot").toString()), source, dhcpMode, stateDir, extraArgs,
                output);
    }

    private static ServeProcess serving(LabNetwork lab, List<String> pivot, List<String> source, String dhcpMode,
                                        Path stateDir, List<String> extraArgs, Consumer<String> output) {
        List<String> cmd = new ArrayList<>(pivot);
        cmd.add("serve");
        cmd.addAll(source);
        cmd.addAll(List.of("--interface", LabNetwork.BRIDGE, "--dhcp", dhcpMode));
        if (dhcpMode.equals("full")) {
            cmd.addAll(List.of("--range", LabNetwork.RANGE_START + "-" + LabNetwork.RANGE_END));
        }
        cmd.addAll(List.of("--state", stateDir.toString()));
        cmd.addAll(extraArgs);
        Process p = lab.namespace().startPiped(cmd);
        Thread.ofVirtual().name("pivot-serve-output").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.accept(line);
                }
            } catch (IOException ignored) {
                // the server ended; whoever waits for it reports that
            }
        });
        ServeProcess server = new ServeProcess(p, List.copyOf(cmd));
        // DHCP on UDP 67 is the server's first duty (full and proxy alike): until it listens, a VM would miss it.
        lab.awaitUdpListener(67, Duration.ofSeconds(90), p);
        return server;
    }

    public List<String> command() {
        return command;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }
}
