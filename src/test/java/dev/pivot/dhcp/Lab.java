package dev.pivot.dhcp;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A throw-away network lab for integration tests: namespaces named {@code pvt-<purpose>-<random>}, the processes
 * started in them, and their output. {@link #close()} (called from the tests' @AfterEach) ends every process it started (by PID) and deletes every
 * namespace it created, whatever happened before.
 */
final class Lab {

    final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static boolean hasCommand(String name) {
        return Arrays.stream(System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":"))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, name)));
    }

    String namespace(String purpose) throws Exception {
        String ns = "pvt-" + purpose + "-" + id;
        run("ip", "netns", "add", ns);
        namespaces.add(ns);
        run("ip", "-n", ns, "link", "set", "lo", "up");
        return ns;
    }

    Path tempFile(String prefix, String suffix) throws IOException {
        Path file = Files.createTempFile(prefix, suffix);
        files.add(file);
        return file;
    }

    record Result(int exitCode, String output) {
    }

    /** Runs a command to its end (or fails the test after the timeout) and returns its exit code and output. */
    Result exec(int timeoutSeconds, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.append("(output closed: ").append(e.getMessage()).append(")");
            }
        });
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", cmd) + " did not finish in " + timeoutSeconds + " s");
        }
        reader.join();
        return new Result(p.exitValue(), out.toString());
    }

    void run(String... cmd) throws Exception {
        Result r = exec(20, cmd);
        if (r.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (" + r.exitCode() + "): " + r.output());
        }
    }

    /** Starts a long-running process whose output lines collect in {@code lines}. */
    Process start(List<String> cmd, List<String> lines) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(p);
        Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(output closed: " + e.getMessage() + ")");
            }
        });
        return p;
    }

    /** Starts {@link DhcpServerMain} as a JVM inside the namespace; returns once it printed READY. */
    List<String> startDhcpServer(String namespace, boolean http, String... args) throws Exception {
        return startDhcpServer(namespace, Map.of("pivot.test.http", Boolean.toString(http)), args);
    }

    /** As above, with system properties for {@link DhcpServerMain} (pivot.test.http, pivot.test.interface). */
    List<String> startDhcpServer(String namespace, Map<String, String> properties, String... args) throws Exception {
        return startDhcpServerProcess(namespace, properties, args).output();
    }

    /** A server JVM and its output lines. */
    record Server(Process process, List<String> output) {
    }

    /** As above, keeping the process (to SIGKILL it, say). */
    Server startDhcpServerProcess(String namespace, Map<String, String> properties, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", namespace, javaBin(),
                // what SO_BINDTODEVICE needs (see InterfaceBinding)
                "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED"));
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DhcpServerMain.class.getName()));
        cmd.addAll(List.of(args));
        // `ip netns exec` execs in place: the process we hold is the server JVM itself, ended by PID in close().
        List<String> output = new CopyOnWriteArrayList<>();
        Process server = start(cmd, output);
        awaitLine(output, 20, l -> l.equals("READY") || !server.isAlive(), "READY");
        if (!server.isAlive()) {
            throw new AssertionError("DHCP server ended: " + output);
        }
        return new Server(server, output);
    }

    static void awaitLine(List<String> lines, int seconds, Predicate<String> wanted, String what)
            throws InterruptedException {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (lines.stream().noneMatch(wanted)) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no line " + what + " within " + seconds + " s in " + lines);
            }
            Thread.sleep(100);
        }
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    void close() throws Exception {
        for (Process p : processes.reversed()) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        for (String ns : namespaces.reversed()) {
            new ProcessBuilder("ip", "netns", "del", ns).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
        }
        for (Path f : files) {
            Files.deleteIfExists(f);
        }
    }
}
