package dev.pivot.dhcp;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Pivot's DHCP server against busybox udhcpc, in two network namespaces joined by a veth pair: the server side
 * has 10.77.0.1/24, the client side starts without an address. The server runs as a child JVM inside its
 * namespace ({@link DhcpServerMain}); nothing here touches the host's own network.
 */
class DhcpServerIT {

    private static final String SERVER_IP = "10.77.0.1";

    private final List<Process> processes = new ArrayList<>();
    private String serverNs;
    private String clientNs;
    private String clientIf;
    private Path udhcpcScript;
    private final List<String> serverOutput = new CopyOnWriteArrayList<>();

    @BeforeEach
    void namespaces() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root for network namespaces");
        assumeTrue(Files.isExecutable(Path.of("/usr/sbin/ip")) || Files.isExecutable(Path.of("/sbin/ip")),
                "needs iproute2 (ip)");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/busybox")) || Files.isExecutable(Path.of("/bin/busybox")),
                "needs busybox for udhcpc");
        String id = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        serverNs = "pvt-dhcp-s-" + id;
        clientNs = "pvt-dhcp-c-" + id;
        clientIf = "pvc" + id;
        String serverIf = "pvs" + id;
        run("ip", "netns", "add", serverNs);
        run("ip", "netns", "add", clientNs);
        run("ip", "link", "add", serverIf, "netns", serverNs, "type", "veth", "peer", "name", clientIf, "netns", clientNs);
        run("ip", "-n", serverNs, "addr", "add", SERVER_IP + "/24", "dev", serverIf);
        run("ip", "-n", serverNs, "link", "set", serverIf, "up");
        run("ip", "-n", serverNs, "link", "set", "lo", "up");
        run("ip", "-n", clientNs, "link", "set", clientIf, "address", "52:54:00:77:00:01");
        run("ip", "-n", clientNs, "link", "set", clientIf, "up");
        run("ip", "-n", clientNs, "link", "set", "lo", "up");
        udhcpcScript = Files.createTempFile("pivot-udhcpc", ".sh", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        Files.writeString(udhcpcScript, """
                #!/bin/sh
                # udhcpc hook: print the lease on "bound"; the test reads these lines.
                case "$1" in
                bound|renew)
                    echo "LEASE $1 ip=$ip mask=$mask router=$router serverid=$serverid siaddr=$siaddr boot_file=$boot_file"
                    [ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface" ;;
                esac
                exit 0
                """);
    }

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        for (String ns : new String[]{clientNs, serverNs}) {
            if (ns != null) {
                new ProcessBuilder("ip", "netns", "del", ns).inheritIO().start().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (udhcpcScript != null) {
            Files.deleteIfExists(udhcpcScript);
        }
    }

    @Test
    void fullModeLeasesDifferentAddressesToTwoClientsAndBootOptionsOnlyToPxe() throws Exception {
        startServer("full", SERVER_IP, "8080", "10.77.0.50", "10.77.0.60", "24");

        Map<String, String> first = udhcpc();
        run("ip", "-n", clientNs, "addr", "flush", "dev", clientIf);
        run("ip", "-n", clientNs, "link", "set", clientIf, "address", "52:54:00:77:00:02");
        Map<String, String> second = udhcpc();
        run("ip", "-n", clientNs, "addr", "flush", "dev", clientIf);
        run("ip", "-n", clientNs, "link", "set", clientIf, "address", "52:54:00:77:00:03");
        Map<String, String> pxe = udhcpc("-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000");
        run("ip", "-n", clientNs, "addr", "flush", "dev", clientIf);
        run("ip", "-n", clientNs, "link", "set", clientIf, "address", "52:54:00:77:00:04");
        Map<String, String> ipxe = udhcpc("-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x4d:69505845");

        assertThat(first.get("ip")).isEqualTo("10.77.0.50");
        assertThat(first.get("mask")).isEqualTo("24");
        assertThat(first.get("serverid")).isEqualTo(SERVER_IP);
        assertThat(first.get("boot_file")).isEmpty();
        assertThat(second.get("ip")).isEqualTo("10.77.0.51");
        assertThat(pxe.get("ip")).isEqualTo("10.77.0.52");
        assertThat(pxe.get("boot_file")).isEqualTo("undionly.kpxe");
        assertThat(pxe.get("siaddr")).isEqualTo(SERVER_IP);
        assertThat(ipxe.get("boot_file")).isEqualTo("http://10.77.0.1:8080/boot.ipxe?mac=52:54:00:77:00:04");
        assertThat(serverOutput).contains(
                "EVENT 52:54:00:77:00:01 ack 10.77.0.50",
                "EVENT 52:54:00:77:00:02 ack 10.77.0.51",
                "EVENT 52:54:00:77:00:03 ack 10.77.0.52 → undionly.kpxe");
    }

    @Test
    void fullModeRenewsTheSameAddressOnUnicast() throws Exception {
        startServer("full", SERVER_IP, "8080", "10.77.0.50", "10.77.0.60", "24");
        // A long-running udhcpc: its script configures the address on "bound", and SIGUSR1 makes it renew, which
        // busybox does by unicast from the configured address (ciaddr set) to the server id.
        List<String> output = new CopyOnWriteArrayList<>();
        Process client = new ProcessBuilder("ip", "netns", "exec", clientNs, "busybox", "udhcpc", "-i", clientIf,
                "-f", "-n", "-t", "5", "-T", "1", "-s", udhcpcScript.toString())
                .redirectErrorStream(true).start();
        processes.add(client);
        collectLines(client, output);
        awaitLine(output, "LEASE bound ip=10.77.0.50");

        exec(5, "kill", "-USR1", Long.toString(client.pid()));
        awaitLine(output, "LEASE renew ip=10.77.0.50");

        assertThat(serverOutput).contains("EVENT 52:54:00:77:00:01 ack 10.77.0.50",
                "EVENT 52:54:00:77:00:01 renew 10.77.0.50");
    }

    @Test
    void proxyModeIgnoresPlainClientsAndGivesPxeClientsTheBootFileWithoutAnAddress() throws Exception {
        startServer("proxy", SERVER_IP, "8080");

        Result plain = exec(20, "ip", "netns", "exec", clientNs, "busybox", "udhcpc", "-i", clientIf, "-f", "-q", "-n",
                "-t", "3", "-T", "1", "-s", udhcpcScript.toString());
        assertThat(plain.exitCode()).as("udhcpc output: %s", plain.output()).isNotZero();
        assertThat(plain.output()).doesNotContain("LEASE");

        run("ip", "-n", clientNs, "addr", "add", "10.77.0.99/24", "dev", clientIf);
        Result probe = exec(30, "ip", "netns", "exec", clientNs, javaBin(), "-cp", System.getProperty("java.class.path"),
                DhcpProbeMain.class.getName(), "10.77.0.99", SERVER_IP, "52:54:00:77:00:09");

        assertThat(probe.output()).contains("OFFER yiaddr=0.0.0.0 siaddr=10.77.0.1 file=undionly.kpxe "
                + "vendor=PXEClient pxe43=060108ff server=10.77.0.1");
        assertThat(probe.output()).contains("ACK yiaddr=0.0.0.0 siaddr=10.77.0.1 file=undionly.kpxe "
                + "vendor=PXEClient pxe43=060108ff server=10.77.0.1");
        assertThat(serverOutput).contains("EVENT 52:54:00:77:00:09 proxy offer undionly.kpxe",
                "EVENT 52:54:00:77:00:09 proxy ack undionly.kpxe");
        assertThat(serverOutput).noneMatch(line -> line.startsWith("EVENT 52:54:00:77:00:01"));
    }

    // ---------------------------------------------------------------- helpers

    private Map<String, String> udhcpc(String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", clientNs, "busybox", "udhcpc", "-i", clientIf,
                "-f", "-q", "-n", "-t", "5", "-T", "1", "-s", udhcpcScript.toString()));
        cmd.addAll(List.of(extra));
        Result r = exec(30, cmd.toArray(String[]::new));
        assertThat(r.exitCode()).as("udhcpc failed: %s\nserver: %s", r.output(), serverOutput).isZero();
        String line = r.output().lines().filter(l -> l.startsWith("LEASE bound ")).findFirst().orElseThrow(() ->
                new AssertionError("udhcpc printed no lease: " + r.output()));
        Map<String, String> fields = new HashMap<>();
        for (String kv : line.substring("LEASE bound ".length()).split(" ")) {
            int eq = kv.indexOf('=');
            fields.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return fields;
    }

    private void startServer(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", serverNs, javaBin(), "-cp",
                System.getProperty("java.class.path"), DhcpServerMain.class.getName()));
        cmd.addAll(List.of(args));
        // `ip netns exec` execs in place: the process we hold is the server JVM itself, ended by PID afterwards.
        Process server = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        processes.add(server);
        Object ready = new Object();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    serverOutput.add(line);
                    synchronized (ready) {
                        ready.notifyAll();
                    }
                }
            } catch (IOException e) {
                serverOutput.add("(output closed: " + e.getMessage() + ")");
            }
        });
        long deadline = System.currentTimeMillis() + 20_000;
        synchronized (ready) {
            while (!serverOutput.contains("READY") && server.isAlive() && System.currentTimeMillis() < deadline) {
                ready.wait(200);
            }
        }
        assertThat(serverOutput).as("server did not start").contains("READY");
    }

    private static void collectLines(Process process, List<String> into) {
        Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    into.add(line);
                }
            } catch (IOException e) {
                into.add("(output closed: " + e.getMessage() + ")");
            }
        });
    }

    private void awaitLine(List<String> lines, String prefix) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 15_000;
        while (lines.stream().noneMatch(l -> l.startsWith(prefix))) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("no line starting '" + prefix + "' in " + lines + "\nserver: " + serverOutput);
            }
            Thread.sleep(100);
        }
    }

    private static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private record Result(int exitCode, String output) {
    }

    private Result exec(int timeoutSeconds, String... cmd) throws Exception {
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

    private void run(String... cmd) throws Exception {
        Result r = exec(20, cmd);
        if (r.exitCode() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (" + r.exitCode() + "): " + r.output());
        }
    }
}
