package dev.pivot.tftp;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * 1 MiB over TFTP with 5 % of the UDP packets (all but the option handshake) dropped (nftables {@code numgen random}, netboot-facts pitfall 12:
 * no netem here). Server and client run inside a fresh network namespace on its loopback, so nothing outside the
 * namespace sees a packet. The copies must be byte-exact; the time each client needed is printed.
 */
class TftpLossIT {

    @TempDir
    Path dir;

    @Test
    void completesByteExactWithFivePercentLoss() throws Exception {
        assumeTrue("0".equals(run("id", "-u").output().trim()), "needs root for network namespaces");
        assumeTrue(TftpServerIT.installed("nft"), "nft is not installed (Debian package nftables)");
        assumeTrue(TftpServerIT.installed("ip"), "ip is not installed (Debian package iproute2)");
        Path root = Files.createDirectories(dir.resolve("root"));
        TftpServerIT.writeRandom(root.resolve("one.bin"), 1 << 20, new Random(7));
        String want = TftpServerIT.sha256(root.resolve("one.bin"));

        String ns = "pvt-tftploss-" + UUID.randomUUID().toString().substring(0, 8);
        Process server = null;
        try {
            check(run("ip", "netns", "add", ns));
            check(run("ip", "-n", ns, "link", "set", "lo", "up"));
            check(run("ip", "netns", "exec", ns, "nft", "add table inet pvtloss; "
                    + "add chain inet pvtloss in { type filter hook input priority 0; policy accept; }; "
                    // The option handshake (OACK, ACK 0) is exempt: our server retransmits a lost-ACKed OACK as
                    // RFC 2347 expects, but atftp 0.8.0 then aborts ("unexpected OACK"); that is a client limit,
                    // not the data path this test measures. @th,64 is the TFTP opcode after the 8-byte UDP header.
                    + "add rule inet pvtloss in meta l4proto udp @th,64,32 != 0x00040000 @th,64,16 != 6 "
                    + "numgen random mod 100 lt 5 counter drop"));
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            server = new ProcessBuilder("ip", "netns", "exec", ns, java, "-cp",
                    System.getProperty("java.class.path"), StandaloneTftpServer.class.getName(), root.toString())
                    .redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream()));
            String port = null;
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("READY ")) {
                    port = line.substring(6).trim();
                    break;
                }
            }
            assertThat(port).as("the server in %s started", ns).isNotNull();
            Thread.ofVirtual().start(() -> out.lines().forEach(l -> { }));   // keep its pipe drained

            List<String[]> clients = new ArrayList<>();
            if (TftpServerIT.installed("curl")) {
                clients.add(new String[] {"curl", "-sS", "--tftp-blksize", "512", "-o", "OUT",
                        "tftp://127.0.0.1:" + port + "/one.bin"});
                clients.add(new String[] {"curl", "-sS", "--tftp-blksize", "1468", "-o", "OUT",
                        "tftp://127.0.0.1:" + port + "/one.bin"});
            }
            // atftp is left out on purpose: atftp 0.8.0 re-ACKs a duplicate DATA block only once (its own
            // Sorcerer's Apprentice guard) and restarts its 5 s re-ACK timer on every packet, so when that one
            // extra ACK is lost too it waits forever while our retransmissions (RTO capped at 2 s) keep it awake.
            // Measured here: 10 of 12 lock-step 1 MiB runs at 5 % loss stalled with a 2 s cap, 4 of 12 with 6 s.
            if (TftpServerIT.installed("tftp")) {
                clients.add(new String[] {"tftp", "-m", "binary", "127.0.0.1", port, "-c", "get", "one.bin", "OUT"});
            }
            assumeTrue(!clients.isEmpty(), "no TFTP client installed (curl, tftp-hpa)");
            for (String[] client : clients) {
                Path copy = dir.resolve("copy-" + clients.indexOf(client));
                List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
                for (String arg : client) {
                    command.add(arg.equals("OUT") ? copy.toString() : arg);
                }
                long start = System.nanoTime();
                TftpServerIT.Run run = run(command.toArray(String[]::new));
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                String label = String.join(" ", client).replaceAll(" -o OUT| -l OUT| OUT", "");
                assertThat(run.exit()).as("%s: %s", label, run.output()).isZero();
                assertThat(TftpServerIT.sha256(copy)).as("sha256 via %s", label).isEqualTo(want);
                System.out.printf("TFTP 1 MiB with 5%% loss via %s: %d ms%n", label, millis);
            }
            System.out.println("nft counters: " + run("ip", "netns", "exec", ns, "nft", "list", "table", "inet",
                    "pvtloss").output().replaceAll("\\s+", " "));
        } finally {
            if (server != null) {
                server.getOutputStream().close();
                if (!server.waitFor(5, TimeUnit.SECONDS)) {
                    server.destroyForcibly();
                }
            }
            run("ip", "netns", "del", ns);
        }
    }

    static void check(TftpServerIT.Run run) {
        assertThat(run.exit()).as(run.output()).isZero();
    }

    TftpServerIT.Run run(String... command) throws Exception {
        return TftpServerIT.run(command);
    }
}
