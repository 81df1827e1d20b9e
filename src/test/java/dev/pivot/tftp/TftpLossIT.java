package dev.pivot.tftp;

import dev.pivot.testsupport.TestImage;

import dev.pivot.demo.NetNamespace;
import dev.pivot.testsupport.DelayRelay;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * 1 MiB over TFTP with 5 % and with 20 % of the UDP packets dropped (nftables {@code numgen random}, netboot-facts
 * pitfall 12: no netem here), for curl, tftp-hpa, atftp and busybox, on loopback and over a link with 1 ms each
 * way. Servers and clients run inside network namespaces made here, so nothing outside them sees a packet. Every
 * copy from Pivot must be byte-exact; the time each client needed is printed with the server's own account of the
 * transfer, next to tftpd-hpa's time for the same client and loss (bounded: it is the yardstick, not the
 * subject). At 5 % on loopback each client must also be done within 10 s (see {@link #fivePercentLoss()}).
 *
 * <p>atftp 0.8.0 re-ACKs a repeated DATA block only once and busybox 1.35 never does; each waits for its own timer
 * (5 s, 100 ms), restarted by every packet. What brings them back after a lost ACK is the server's probe, the
 * blocks after the window sent with a retransmission (see {@link RetrySchedule}).
 */
class TftpLossIT {

    /** tftpd-hpa waits ≥ 1 s per lost packet (its -T default): bounded so the comparison cannot dominate CI. */
    static final int PEER_BOUND_SECONDS = 30;
    static final String PEER_PORT = "6969";
    static final String PIVOT_PORT = "6970";
    static final String PIVOT_HTTP_PORT = "6980";

    @TempDir
    Path dir;

    record Client(String label, String... args) { }

    /** Every client, at both 512 (lock-step's worst case: 2048 round trips) and 1468 where it can ask for it. */
    static List<Client> everyClient() {
        List<Client> clients = new ArrayList<>();
        clients.add(new Client("curl blksize 512", "curl", "-sS", "--tftp-blksize", "512", "-o", "OUT",
                "tftp://HOST:PORT/one.bin"));
        clients.add(new Client("curl blksize 1468", "curl", "-sS", "--tftp-blksize", "1468", "-o", "OUT",
                "tftp://HOST:PORT/one.bin"));
        clients.add(new Client("tftp-hpa", "tftp", "-m", "binary", "HOST", "PORT", "-c", "get", "one.bin", "OUT"));
        clients.add(new Client("atftp blksize 512", "atftp", "-g", "-r", "one.bin", "-l", "OUT", "HOST", "PORT"));
        clients.add(new Client("atftp blksize 1468", "atftp", "--option", "blksize 1468", "-g", "-r", "one.bin",
                "-l", "OUT", "HOST", "PORT"));
        clients.add(new Client("busybox blksize 512", "busybox", "tftp", "-g", "-b", "512", "-r", "one.bin", "-l",
                "OUT", "HOST", "PORT"));
        clients.add(new Client("busybox blksize 1468", "busybox", "tftp", "-g", "-b", "1468", "-r", "one.bin",
                "-l", "OUT", "HOST", "PORT"));
        return clients;
    }

    /** What README promises for 5 % loss: each client has its 1 MiB within this, on loopback. */
    static final int FIVE_PERCENT_BOUND_MILLIS = 10_000;

    /**
     * Every client gets 1 MiB within {@link #FIVE_PERCENT_BOUND_MILLIS}. "5 % loss" here drops 5 % of the DATA, the
     * ACKs after ACK 0 and any ERROR arriving in the namespace, both ways; the read request and the option handshake
     * (OACK, ACK 0) are never dropped. The request is exempt in this test only: a lost RRQ costs the client's own
     * first retry timer (seconds, each client its own) before any server hears of it, which no server can shorten
     * and which would make the bound a bet on the dice rather than a check of the transfer.
     */
    @Test
    void fivePercentLoss() throws Exception {
        try (Lab lab = loopback(5, true)) {
            lossRun(lab, 5, "", everyClient(), List.of("curl blksize 1468", "tftp-hpa"), FIVE_PERCENT_BOUND_MILLIS);
        }
    }

    /** Completion and byte-exact copies only (within the 170 s each fetch is given), RRQ not exempt. */
    @Test
    void twentyPercentLoss() throws Exception {
        try (Lab lab = loopback(20, false)) {
            lossRun(lab, 20, "", everyClient(), List.of("curl blksize 1468"), 0);
        }
    }

    /**
     * A client whose every ACK is lost for the first seconds of a transfer (the CI once lost tftp-hpa's ACKs to
     * five copies of block 1 in a row at 20 % loss). tftp-hpa then answers only on its own 5 s timer, to the
     * transfer's port, and gives up after 25 s without the next block. The server, having heard nothing, must not
     * end the transfer before that timer's answer can arrive: here every ACK is dropped for the first 7 s (the last
     * fast copy goes out at 5.5 s), and the copy must still complete.
     */
    @Test
    void aClientWhoseFirstAcksAreAllLostIsStillServed() throws Exception {
        requireLab();
        NetNamespace ns = NetNamespace.create("tftpa");
        try (Lab lab = new Lab(List.of(ns), ns, ns, "127.0.0.1")) {
            Path root = Files.createDirectories(dir.resolve("root"));
            TftpServerIT.writeRandom(root.resolve("one.bin"), 1 << 20, new Random(7));
            String want = TestFiles.sha256(root.resolve("one.bin"));
            BufferedReader out = startPivot(lab, root, "state-acks");
            drain(out, System.out::println);
            ns.exec("nft", "add table inet pvtloss; "
                    + "add chain inet pvtloss in { type filter hook input priority 0; policy accept; }; "
                    + "add rule inet pvtloss in meta l4proto udp @th,64,16 == 4 counter drop");
            Thread lifter = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(7000);
                    ns.exec("nft", "flush", "chain", "inet", "pvtloss", "in");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Client tftpHpa = everyClient().stream().filter(c -> c.label().equals("tftp-hpa")).findFirst().orElseThrow();
            long millis;
            try {
                millis = fetch(lab, tftpHpa, PIVOT_PORT, dir.resolve("copy"), 60, want, true);
            } finally {
                // A fetch that fails early leaves the lifter asleep: it must not run nft once the namespace is gone.
                lifter.interrupt();
                lifter.join();
            }
            System.out.printf("TFTP 1 MiB via tftp-hpa with every ACK lost for the first 7 s: %d ms%n", millis);
            assertThat(millis).as("answered on the client's first timer (5 s after the last copy)")
                    .isLessThan(20_000);
        }
    }

    /**
     * The setting: a 2 ms round trip, where a lock-step 1 MiB at 512 bytes is 2048 round trips (~4-5 s)
     * before any loss, and tftpd-hpa and dnsmasq were measured at 85-300 s with 5 % loss.
     */
    @Test
    void fivePercentLossOverALinkWithOneMillisecondEachWay() throws Exception {
        try (Lab lab = delayedLink(5, 1000)) {
            lossRun(lab, 5, " over 1 ms each way", everyClient(), List.of("tftp-hpa"), 0);
        }
    }

    /**
     * Where the server runs and where its clients do. {@code serverNs} and {@code clientNs} are the same namespace on
     * loopback; over the delayed link they are two, joined through a third that holds the relay.
     */
    record Lab(List<NetNamespace> namespaces, NetNamespace serverNs, NetNamespace clientNs, String serverAddress)
            implements AutoCloseable {

        @Override
        public void close() {
            // Each namespace ends the processes started in it by their PID, then is deleted.
            namespaces.reversed().forEach(NetNamespace::close);
        }
    }

    /** Fails, saying what is missing, unless the namespaces, the drop rule, every client and tftpd-hpa can run. */
    static void requireLab() {
        Require.root("network namespaces");
        Require.command("nft");
        Require.command("ip");
        TftpServerIT.requireClients();
        Require.file(Path.of("/usr/sbin/in.tftpd"), "tftpd-hpa");
    }

    Lab loopback(int percent, boolean requestExempt) throws Exception {
        requireLab();
        NetNamespace ns = NetNamespace.create("tftpl");
        try {
            dropPercent(ns, percent, requestExempt);
            return new Lab(List.of(ns), ns, ns, "127.0.0.1");
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
    }

    /** client ── relay (delay each way) ── server, 10.99.0.0/24, loss on both ends' input. */
    Lab delayedLink(int percent, int delayMicros) throws Exception {
        requireLab();
        List<NetNamespace> made = new ArrayList<>();
        try {
            NetNamespace server = NetNamespace.create("tftps");
            made.add(server);
            NetNamespace client = NetNamespace.create("tftpc");
            made.add(client);
            NetNamespace relay = NetNamespace.create("tftpr");
            made.add(relay);
            relay.addVethTo("toclient", client, "eth0");
            relay.addVethTo("toserver", server, "eth0");
            relay.exec("sysctl", "-qw", "net.ipv6.conf.toclient.disable_ipv6=1");
            relay.exec("sysctl", "-qw", "net.ipv6.conf.toserver.disable_ipv6=1");
            server.addAddress("eth0", "10.99.0.1/24");
            client.addAddress("eth0", "10.99.0.2/24");
            Process relayProcess = relay.startWithStdin(List.of(java(), "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), DelayRelay.class.getName(), "toclient", "toserver",
                    Integer.toString(delayMicros)));
            BufferedReader relayOut = new BufferedReader(new InputStreamReader(relayProcess.getInputStream()));
            assertThat(relayOut.readLine()).as("the relay in %s started", relay.name()).isEqualTo("READY");
            drain(relayOut, System.out::println);
            dropPercent(server, percent, false);
            dropPercent(client, percent, false);
            return new Lab(made, server, client, "10.99.0.1");
        } catch (Exception | AssertionError e) {
            made.reversed().forEach(NetNamespace::close);
            throw e;
        }
    }

    /**
     * Drops {@code percent} of the UDP packets arriving in {@code ns}. The option handshake (OACK, ACK 0) is
     * exempt: a server retransmits a lost-ACKed OACK as RFC 2347 expects, but atftp 0.8.0 then aborts ("unexpected
     * OACK"); that is a client limit, not the data path this test measures. With {@code requestExempt} the read
     * request (opcode 1) is kept too. @th,64 is the TFTP opcode after the 8-byte UDP header. Without it the rule is
     * bench/tftp-vs-peers.sh's, so the times printed compare with the benchmark's.
     */
    static void dropPercent(NetNamespace ns, int percent, boolean requestExempt) {
        ns.exec("nft", "add table inet pvtloss; "
                + "add chain inet pvtloss in { type filter hook input priority 0; policy accept; }; "
                + "add rule inet pvtloss in meta l4proto udp @th,64,32 != 0x00040000 @th,64,16 != 6 "
                + (requestExempt ? "@th,64,16 != 1 " : "")
                + "numgen random mod 100 lt " + percent + " counter drop");
    }

    /** Reads a child's output until it ends; ending the child (closing the lab) closes the stream too. */
    static void drain(BufferedReader output, java.util.function.Consumer<String> each) {
        Thread.ofVirtual().start(() -> {
            try {
                for (String line; (line = output.readLine()) != null; ) {
                    each.accept(line);
                }
            } catch (IOException closed) {
                // the child was ended and its stream closed with it: nothing more to read
            }
        });
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** @param boundMillis each client's time limit for its 1 MiB, or 0 for completion within the fetch's 170 s */
    void lossRun(Lab lab, int percent, String where, List<Client> wanted, List<String> comparedWithPeer,
                 long boundMillis) throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        TftpServerIT.writeRandom(root.resolve("one.bin"), 1 << 20, new Random(7));
        String want = TestFiles.sha256(root.resolve("one.bin"));

        BufferedReader out = startPivot(lab, root, "state-" + percent + where.hashCode());
        // The server's own account of each transfer (retransmissions, quiet waits, srtt) goes next to its time.
        BlockingQueue<String> sent = new LinkedBlockingQueue<>();
        drain(out, line -> {
            if (line.contains("TFTP: sent")) {
                sent.add(line);
            }
        });
        startTftpdHpa(lab.serverNs(), root);

        List<String> over = new ArrayList<>();
        for (Client client : wanted) {
            sent.clear();
            long millis = fetch(lab, client, PIVOT_PORT, dir.resolve("copy"), 170, want, true);
            String ratio = "";
            if (comparedWithPeer.contains(client.label())) {
                long peerMillis = fetch(lab, client, PEER_PORT, dir.resolve("peer-copy"), PEER_BOUND_SECONDS, want,
                        false);
                ratio = peerMillis < 0
                        ? String.format(" (tftpd-hpa: not done in %d s, so > %.1f× slower)", PEER_BOUND_SECONDS,
                                PEER_BOUND_SECONDS * 1000.0 / millis)
                        : String.format(" (tftpd-hpa: %d ms, Pivot/tftpd-hpa time ratio %.2f)", peerMillis,
                                (double) millis / peerMillis);
            }
            String account = sent.poll(5, TimeUnit.SECONDS);
            System.out.printf("TFTP 1 MiB with %d%% loss%s via %s: %d ms%s%n    server: %s%n", percent, where,
                    client.label(), millis, ratio, account == null ? "(no log line)"
                            : account.substring(account.indexOf("TFTP: sent") + 6));
            if (boundMillis > 0 && millis > boundMillis) {
                over.add(client.label() + " " + millis + " ms (server: " + account + ")");
            }
        }
        System.out.println("nft counters in " + lab.serverNs().name() + ": "
                + lab.serverNs().exec("nft", "list", "table", "inet", "pvtloss").replaceAll("\\s+", " "));
        // Every client is timed and printed first, so a failure shows all of them.
        assertThat(over).as("clients over %d ms for 1 MiB with %d%% loss%s", boundMillis, percent, where).isEmpty();
    }

    /**
     * {@code pivot serve} as shipped, in the server's namespace: DHCP off, {@code root} as its TFTP root. Returns its
     * output once it waits for machines.
     */
    BufferedReader startPivot(Lab lab, Path root, String state) throws Exception {
        Path image = TestImage.nixos(dir, "loss");
        Process server = lab.serverNs().startWithStdin(List.of(
                Require.pivotRoot().resolve("pivot").toString(), "serve", image.toString(), "--skip-check",
                "--listen", lab.serverAddress(), "--dhcp", "off", "--tftp-port", PIVOT_PORT, "--http-port",
                PIVOT_HTTP_PORT, "--tftp-root", root.toString(), "--state", dir.resolve(state).toString()));
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream()));
        List<String> start = new ArrayList<>();
        for (String line; (line = out.readLine()) != null; ) {
            start.add(line);
            if (line.startsWith("pivot: waiting for machines")) {
                return out;
            }
        }
        throw new AssertionError("pivot serve did not start in " + lab.serverNs().name() + ": " + start);
    }

    void startTftpdHpa(NetNamespace ns, Path root) throws IOException {
        // tftpd-hpa drops to user tftp after its chroot: the file must be world-readable.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(root.resolve("one.bin"), PosixFilePermissions.fromString("rw-r--r--"));
        // "-a :PORT", not "127.0.0.1:PORT": tftpd-hpa resolves the address with AI_ADDRCONFIG, which finds no IPv4
        // address in a namespace that has only loopback (exit 66). The namespace has nothing else.
        ns.start(List.of("/usr/sbin/in.tftpd", "-4", "-L", "-s", root.toString(), "-a", ":" + PEER_PORT),
                dir.resolve("tftpd-hpa.log"));
    }

    /** Runs one client in the lab's client namespace; returns its time, or -1 when a peer run was not done in time. */
    long fetch(Lab lab, Client client, String port, Path copy, int boundSeconds, String want, boolean mustSucceed)
            throws Exception {
        Files.deleteIfExists(copy);
        List<String> command = new ArrayList<>(List.of("timeout", Integer.toString(boundSeconds), "ip", "netns",
                "exec", lab.clientNs().name()));
        for (String arg : client.args()) {
            command.add(arg.equals("OUT") ? copy.toString()
                    : arg.replace("HOST", lab.serverAddress()).replace("PORT", port));
        }
        long start = System.nanoTime();
        TftpServerIT.Run run = TftpServerIT.run(command.toArray(String[]::new));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (!mustSucceed) {
            return run.exit() == 0 && Files.exists(copy) && TestFiles.sha256(copy).equals(want) ? millis : -1;
        }
        assertThat(run.exit()).as("%s after %d ms: %s", client.label(), millis, run.output()).isZero();
        assertThat(TestFiles.sha256(copy)).as("sha256 via %s", client.label()).isEqualTo(want);
        return millis;
    }
}
