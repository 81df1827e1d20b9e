package dev.pivot.dhcp;

import dev.pivot.demo.NetNamespace;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import dev.pivot.testsupport.Lines;
import dev.pivot.testsupport.Require;

/**
 * A throw-away network lab for the DHCP integration tests, on {@link NetNamespace}s ({@code pvt-<purpose>-<random>})
 * and the processes started in them, with their output. {@link #close()} (called from the tests' @AfterEach)
 * closes every namespace it created, which ends the processes started in it (by PID) and deletes it, and deletes
 * its temporary files, whatever happened before.
 */
public final class Lab {

    /** Unique to this lab: for link names (dhcpcd, say, keeps state by interface name on the host). */
    public final String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
    private final List<NetNamespace> namespaces = new ArrayList<>();
    private final List<Path> files = new ArrayList<>();

    public static boolean isRoot() {
        return Require.isRoot();
    }

    /** A new namespace (loopback up), closed with the lab. */
    public NetNamespace namespace(String purpose) {
        NetNamespace ns = NetNamespace.create(purpose);
        namespaces.add(ns);
        return ns;
    }

    Path tempFile(String prefix, String suffix) throws IOException {
        Path file = Files.createTempFile(prefix, suffix);
        files.add(file);
        return file;
    }

    // ---- the server ↔ client LAN that most DHCP tests use ---------------------------------------------------

    /** The address of the server's side of a {@link ClientServerLan}. */
    public static final String SERVER_IP = "10.77.0.1";

    /**
     * Two namespaces joined by a veth pair: the server's side has {@link #SERVER_IP}/24, the client's side
     * ({@code clientIf}, with the client's MAC) starts without an address.
     *
     * @param udhcpcScript a busybox udhcpc hook that prints {@code LEASE bound|renew ip=… mask=… router=…
     *                     serverid=… siaddr=… boot_file=…} and configures the address on "bound"
     */
    public record ClientServerLan(NetNamespace server, String serverIf, NetNamespace client, String clientIf,
                           Path udhcpcScript) {
    }

    /** Fails the test unless udhcpc in namespaces can run here (root, iproute2, busybox), saying what is missing. */
    static void requireUdhcpcLab() {
        Require.root("network namespaces");
        Require.command("ip");
        Require.command("busybox");
    }

    /** A {@link ClientServerLan} in namespaces {@code pvt-<serverPurpose>-…} and {@code pvt-<clientPurpose>-…}. */
    public ClientServerLan clientServerLan(String serverPurpose, String clientPurpose, String clientMac) throws IOException {
        NetNamespace server = namespace(serverPurpose);
        NetNamespace client = namespace(clientPurpose);
        String serverIf = "pvs" + id;
        String clientIf = "pvc" + id;
        server.addVethTo(serverIf, client, clientIf);
        server.addAddress(serverIf, SERVER_IP + "/24");
        client.ip("link", "set", clientIf, "address", clientMac);
        Path script = tempFile("pivot-udhcpc", ".sh");
        Files.writeString(script, """
                #!/bin/sh
                # udhcpc hook: print the lease on "bound"/"renew" and configure it; the test reads these lines.
                case "$1" in
                bound|renew)
                    echo "LEASE $1 ip=$ip mask=$mask router=$router serverid=$serverid siaddr=$siaddr boot_file=$boot_file"
                    [ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface" ;;
                esac
                exit 0
                """);
        script.toFile().setExecutable(true, true);
        return new ClientServerLan(server, serverIf, client, clientIf, script);
    }

    /** The server-side interface name of this lab's {@link ClientServerLan}. */
    public String clientServerLanServerIf() {
        return "pvs" + id;
    }

    /** The fields of a {@code LEASE …} line printed by the {@link ClientServerLan#udhcpcScript()}. */
    static Map<String, String> leaseFields(String line) {
        Map<String, String> fields = new HashMap<>();
        String[] words = line.split(" ");
        for (int i = 2; i < words.length; i++) { // after "LEASE bound|renew"
            int eq = words[i].indexOf('=');
            fields.put(words[i].substring(0, eq), words[i].substring(eq + 1));
        }
        return fields;
    }

    // ---- processes ------------------------------------------------------------------------------------------

    public record Result(int exitCode, String output) {
    }

    /**
     * Runs a command inside {@code ns} to its end (or fails the test after the timeout) and returns its exit code
     * and output.
     */
    public Result exec(NetNamespace ns, int timeoutSeconds, String... cmd) throws Exception {
        Process p = ns.startPiped(List.of(cmd));
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

    /** Sends {@code signal} (e.g. USR1, KILL) to a process this lab started, by its PID. */
    static void signal(Process p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).redirectErrorStream(true)
                .start();
        String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!kill.waitFor(20, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed: " + output);
        }
    }

    /** Starts a long-running process inside {@code ns} whose output lines collect in {@code lines}. */
    public Process start(NetNamespace ns, List<String> cmd, List<String> lines) {
        return collect(ns.startPiped(cmd), lines);
    }

    private static Process collect(Process p, List<String> lines) {
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
    List<String> startDhcpServer(NetNamespace ns, boolean http, String... args) throws Exception {
        return startDhcpServer(ns, Map.of("pivot.test.http", Boolean.toString(http)), args);
    }

    /** As above, with system properties for {@link DhcpServerMain} (pivot.test.http, pivot.test.interface). */
    List<String> startDhcpServer(NetNamespace ns, Map<String, String> properties, String... args) throws Exception {
        return startDhcpServerProcess(ns, properties, args).output();
    }

    /** A server JVM and its output lines. */
    record Server(Process process, List<String> output) {
    }

    /** As above, keeping the process (to SIGKILL it, say). */
    Server startDhcpServerProcess(NetNamespace ns, Map<String, String> properties, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(javaBin(),
                // what SO_BINDTODEVICE needs (see InterfaceBinding)
                "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED"));
        properties.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), DhcpServerMain.class.getName()));
        cmd.addAll(List.of(args));
        // `ip netns exec` execs in place: the process we hold is the server JVM itself, ended by PID when its
        // namespace closes. It runs until its stdin closes, so that stays open.
        List<String> output = new CopyOnWriteArrayList<>();
        Process server = collect(ns.startWithStdin(cmd), output);
        awaitLine(output, 20, l -> l.equals("READY") || !server.isAlive(), "READY");
        if (!server.isAlive()) {
            throw new AssertionError("DHCP server ended: " + output);
        }
        return new Server(server, output);
    }

    public static void awaitLine(List<String> lines, int seconds, Predicate<String> wanted, String what)
            throws InterruptedException {
        Lines.await(lines, seconds, wanted, what);
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public void close() throws Exception {
        for (NetNamespace ns : namespaces.reversed()) {
            ns.close();
        }
        for (Path f : files) {
            Files.deleteIfExists(f);
        }
    }
}
