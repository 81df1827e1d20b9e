package dev.pivot.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The attacks of issue 16 against a running `pivot serve` on loopback, one after another, each bounded in count and
 * time, while a legitimate client (127.0.0.1) keeps fetching its script, its kernel over HTTP and undionly-sized
 * files over TFTP. Attackers use other loopback addresses (127.0.0.2…), as other hosts on the LAN would. Per
 * attack it prints: requests sent, legitimate fetches served / failed during the attack, and Pivot's peak RSS,
 * threads and descriptors (from /proc/PID), and at the end whether the server logged an OutOfMemoryError.
 *
 * <p>Arguments: {@code PID HTTP_PORT TFTP_PORT LOG TFTP_FILE API_TOKEN}.
 */
public final class Abuse {

    private final long pid;
    private final int httpPort;
    private final int tftpPort;
    private final Path log;
    private final String tftpFile;
    private final String apiToken;
    private final HttpClient legitHttp = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private volatile String tftpFailure = "";
    private static final String LEGIT_MAC = "52:54:00:ab:05:01";
    /**
     * Where Pivot listens and where the attackers come from (attacker n is PREFIX + n): loopback by default; the
     * namespace part of bench/abuse.sh sets them to its bridge's addresses.
     */
    private static final String SERVER = System.getProperty("abuse.server", "127.0.0.1");
    private static final String ATTACKERS = System.getProperty("abuse.attackers", "127.0.0.");
    private static final String LEGIT_FROM = System.getProperty("abuse.legit", SERVER);
    /**
     * With -Dabuse.until=FILE each attack is repeated until FILE exists (a VM booting alongside reached stage 2),
     * at most {@link #UNTIL_CAP}: the attack lasts the whole boot, and is bounded all the same.
     */
    private static final String UNTIL = System.getProperty("abuse.until", "");
    private static final Duration UNTIL_CAP = Duration.ofSeconds(Long.getLong("abuse.until.seconds", 300));

    private static InetAddress attacker(int n) throws IOException {
        return InetAddress.getByName(ATTACKERS + n);
    }

    private Abuse(String[] args) {
        pid = Long.parseLong(args[0]);
        httpPort = Integer.parseInt(args[1]);
        tftpPort = Integer.parseInt(args[2]);
        log = Path.of(args[3]);
        tftpFile = args[4];
        apiToken = args[5];
    }

    public static void main(String[] args) throws Exception {
        new Abuse(args).run(args.length > 6 && !args[6].isBlank() ? List.of(args[6].split(",")) : List.of());
    }

    interface Attack {
        /** Runs the attack; returns the requests sent. */
        long run() throws Exception;
    }

    private void run(List<String> only) throws Exception {
        System.out.printf("%-16s %10s %9s %9s %9s %8s %6s  %s%n", "attack", "requests", "legit ok", "legit bad",
                "peak RSS", "threads", "fds", "refused (pivot_refused_total, after)");
        record Named(String name, Attack attack) { }
        List<Named> attacks = List.of(
                new Named("tftp-flood", this::tftpFlood),
                new Named("tftp-window", this::tftpWindowMemory),
                new Named("report-flood", this::reportFlood),
                new Named("conn-flood", this::connectionFlood),
                new Named("download-hold", this::downloadHold),
                new Named("big-body", this::bigBodies),
                new Named("machines-read", this::machinesRead),
                new Named("dhcp-flood", this::dhcpFlood));
        for (Named a : attacks) {
            if (!only.isEmpty() && !only.contains(a.name())) {
                continue;
            }
            if (only.isEmpty() && a.name().equals("dhcp-flood")) {
                continue; // only where asked for by name: on the namespace's bridge, where a DHCP server listens
            }
            measure(a.name(), a.attack());
            Thread.sleep(2000); // let the attack's leftovers time out between attacks (not an assertion)
        }
        boolean oom = Files.readString(log).contains("OutOfMemoryError");
        System.out.println("OutOfMemoryError in the server log: " + (oom ? "YES" : "no"));
    }

    private void measure(String name, Attack attack) throws Exception {
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger bad = new AtomicInteger();
        AtomicLong rss = new AtomicLong();
        AtomicLong threads = new AtomicLong();
        AtomicLong fds = new AtomicLong();
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (running.get()) {
                sample(rss, threads, fds);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        java.util.concurrent.atomic.AtomicReference<String> firstFailure = new java.util.concurrent.atomic.AtomicReference<>();
        Thread legit = Thread.ofPlatform().daemon().start(() -> {
            while (running.get()) {
                String failure = legitFetch();
                (failure == null ? ok : bad).incrementAndGet();
                if (failure != null) {
                    firstFailure.compareAndSet(null, failure);
                }
            }
        });
        long sent = 0;
        try {
            long until = System.nanoTime() + UNTIL_CAP.toNanos();
            do {
                sent += attack.run();
            } while (!UNTIL.isEmpty() && !Files.exists(Path.of(UNTIL)) && System.nanoTime() < until);
        } finally {
            // The legitimate client goes on for a few seconds after the attack: what it left behind still counts.
            Thread.sleep(3000);
            running.set(false);
            legit.join(30_000);
            sampler.join(1000);
        }
        System.out.printf("%-16s %10d %9d %9d %7d MB %8d %6d  %s%n", name, sent, ok.get(), bad.get(),
                rss.get() / 1024, threads.get(), fds.get(), refusals());
        if (firstFailure.get() != null) {
            System.out.println("                 first legitimate failure: " + firstFailure.get());
        }
    }

    private void sample(AtomicLong rss, AtomicLong threads, AtomicLong fds) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss.accumulateAndGet(Long.parseLong(line.replaceAll("\\D", "")), Math::max);
                } else if (line.startsWith("Threads:")) {
                    threads.accumulateAndGet(Long.parseLong(line.replaceAll("\\D", "")), Math::max);
                }
            }
            String[] open = Path.of("/proc/" + pid + "/fd").toFile().list();
            if (open != null) {
                fds.accumulateAndGet(open.length, Math::max);
            }
        } catch (IOException | RuntimeException e) {
            // the process is gone or busy: the next sample tells
        }
    }

    private String refusals() {
        try {
            String metrics = legitHttp.send(HttpRequest.newBuilder(URI.create(base() + "/metrics"))
                    .header("Authorization", "Bearer " + apiToken).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            StringBuilder out = new StringBuilder();
            Matcher m = Pattern.compile("(?m)^pivot_refused_total\\{kind=\"([^\"]+)\"[^}]*} (\\S+)").matcher(metrics);
            while (m.find()) {
                out.append(m.group(1)).append('=').append((long) Double.parseDouble(m.group(2))).append(' ');
            }
            return out.isEmpty() ? "-" : out.toString().strip();
        } catch (Exception e) {
            return "(metrics: " + e.getMessage() + ")";
        }
    }

    private String base() {
        return "http://" + SERVER + ":" + httpPort;
    }

    // ---- the legitimate client ----

    /** One round: the script, the kernel it names (HTTP) and one TFTP file; null, or why it failed. */
    private String legitFetch() {
        try {
            HttpResponse<String> script = legitHttp.send(HttpRequest.newBuilder(URI.create(base()
                    + "/boot.ipxe?mac=" + LEGIT_MAC)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            Matcher kernel = Pattern.compile("(?m)^kernel (\\S+)").matcher(script.body());
            if (script.statusCode() != 200 || !kernel.find()) {
                return "script: HTTP " + script.statusCode();
            }
            HttpResponse<byte[]> k = legitHttp.send(HttpRequest.newBuilder(URI.create(kernel.group(1)))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofByteArray());
            if (k.statusCode() != 200) {
                return "kernel: HTTP " + k.statusCode();
            }
            long got = tftpGet(InetAddress.getByName(LEGIT_FROM), tftpFile);
            return got > 0 ? null : "tftp " + tftpFile + ": " + tftpFailure;
        } catch (Exception e) {
            return e.toString();
        }
    }

    /** A plain RFC 1350 read (octet, 512-byte blocks, lock-step); the bytes received, or -1. */
    private long tftpGet(InetAddress from, String file) throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(from, 0))) {
            s.setSoTimeout(3000);
            byte[] rrq = ("\0\1" + file + "\0octet\0").getBytes(StandardCharsets.ISO_8859_1);
            s.send(new DatagramPacket(rrq, rrq.length, InetAddress.getByName(SERVER), tftpPort));
            byte[] buf = new byte[600];
            long total = 0;
            int expected = 1;
            int timeouts = 0;
            while (true) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(p);
                } catch (SocketTimeoutException e) {
                    if (++timeouts > 3) {
                        tftpFailure = "timed out at block " + expected;
                        return -1;
                    }
                    continue;
                }
                int op = ((buf[0] & 0xff) << 8) | (buf[1] & 0xff);
                if (op != 3) {
                    tftpFailure = "opcode " + op + " " + new String(buf, 4, Math.max(0, p.getLength() - 5),
                            StandardCharsets.ISO_8859_1);
                    return -1; // ERROR (busy, not found)
                }
                int block = ((buf[2] & 0xff) << 8) | (buf[3] & 0xff);
                byte[] ack = {0, 4, buf[2], buf[3]};
                s.send(new DatagramPacket(ack, 4, p.getSocketAddress()));
                if (block == (expected & 0xffff)) {
                    total += p.getLength() - 4;
                    expected++;
                    if (p.getLength() - 4 < 512) {
                        return total;
                    }
                }
            }
        }
    }

    // ---- the attacks ----

    /** 5,000 read requests in 5 s from one host, each from its own port, never acknowledged. */
    private long tftpFlood() throws Exception {
        return rrqFlood(attacker(2), 5000, 5000,
                "\0\1" + tftpFile + "\0octet\0", false);
    }

    /** 2,500 requests for the biggest window (blksize 1468, windowsize 64) that acknowledge only the OACK. */
    private long tftpWindowMemory() throws Exception {
        return rrqFlood(attacker(3), 2500, 5000,
                "\0\1ipxe.efi\0octet\0blksize\0" + "1468\0windowsize\0" + "64\0", true);
    }

    private long rrqFlood(InetAddress from, int count, long millis, String request, boolean ackOack)
            throws Exception {
        byte[] rrq = request.getBytes(StandardCharsets.ISO_8859_1);
        List<DatagramSocket> sockets = new ArrayList<>();
        long start = System.nanoTime();
        try {
            for (int i = 0; i < count; i++) {
                long due = start + TimeUnit.MILLISECONDS.toNanos(millis) * i / count;
                while (System.nanoTime() < due) {
                    Thread.sleep(1);
                }
                DatagramSocket s = new DatagramSocket(new InetSocketAddress(from, 0));
                s.setSoTimeout(1);
                sockets.add(s);
                s.send(new DatagramPacket(rrq, rrq.length, InetAddress.getByName(SERVER), tftpPort));
                if (ackOack) {
                    // Acknowledge the OACK of an earlier request (it had time to come): then never again.
                    DatagramSocket earlier = sockets.get(Math.max(0, sockets.size() - 20));
                    DatagramPacket p = new DatagramPacket(new byte[1600], 1600);
                    try {
                        earlier.receive(p);
                        if (p.getData()[1] == 6) {
                            earlier.send(new DatagramPacket(new byte[]{0, 4, 0, 0}, 4, p.getSocketAddress()));
                        }
                    } catch (SocketTimeoutException ignored) {
                        // nothing came (refused with an ERROR, or not yet)
                    }
                }
                if (sockets.size() > 3000) {
                    sockets.removeFirst().close(); // our own descriptors are bounded too
                }
            }
            Thread.sleep(5000); // hold the sockets while the server holds (or gave up) the transfers
        } finally {
            sockets.forEach(DatagramSocket::close);
        }
        return count;
    }

    /** 12,000 stage-1 reports from random MACs without a secret, 64 at a time. */
    private long reportFlood() throws Exception {
        HttpClient attacker = HttpClient.newBuilder().localAddress(attacker(4))
                .connectTimeout(Duration.ofSeconds(5)).build();
        AtomicInteger next = new AtomicInteger();
        int total = 12_000;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (ExecutorService pool = Executors.newFixedThreadPool(64)) {
            for (int t = 0; t < 64; t++) {
                pool.submit(() -> {
                    while (next.incrementAndGet() <= total && System.nanoTime() < deadline) {
                        String mac = String.format("02:00:%02x:%02x:%02x:%02x", rnd(), rnd(), rnd(), rnd());
                        try {
                            attacker.send(HttpRequest.newBuilder(URI.create(base() + "/report?mac=" + mac
                                    + "&step=stage2&status=failed&detail=" + "x".repeat(200)))
                                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding());
                        } catch (Exception ignored) {
                            // refused or timed out: counted as sent all the same
                        }
                    }
                    return null;
                });
            }
        }
        return Math.min(total, next.get());
    }

    /**
     * 4,000 DHCP DISCOVERs from random MACs in 4 s, broadcast from attacker 8 (needs --dhcp full on a network the
     * attacker is on: the namespace part of bench/abuse.sh). The offers are not read: the flood only asks.
     */
    private long dhcpFlood() throws Exception {
        int count = 4000;
        long millis = 4000;
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(attacker(8), 0))) {
            s.setBroadcast(true);
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                long due = start + TimeUnit.MILLISECONDS.toNanos(millis) * i / count;
                while (System.nanoTime() < due) {
                    Thread.sleep(1);
                }
                byte[] mac = new byte[6];
                java.util.concurrent.ThreadLocalRandom.current().nextBytes(mac);
                mac[0] = (byte) ((mac[0] & 0xfc) | 0x02); // locally administered, unicast
                byte[] discover = dev.pivot.dhcp.DhcpPacket.builder().mac(dev.pivot.boot.MacAddress.of(mac))
                        .xid(java.util.concurrent.ThreadLocalRandom.current().nextInt())
                        .type(dev.pivot.dhcp.MessageType.DISCOVER).build().encode();
                s.send(new DatagramPacket(discover, discover.length, InetAddress.getByName("255.255.255.255"), 67));
            }
        }
        return count;
    }

    private static int rnd() {
        return ThreadLocalRandom.current().nextInt(256);
    }

    /** 5,000 idle connections from one host, held 10 s. */
    private long connectionFlood() throws Exception {
        List<Socket> held = new ArrayList<>();
        InetAddress from = attacker(5);
        int opened = 0;
        try {
            for (int i = 0; i < 5000; i++) {
                Socket s = new Socket();
                try {
                    s.bind(new InetSocketAddress(from, 0));
                    s.connect(new InetSocketAddress(SERVER, httpPort), 2000);
                    held.add(s);
                    opened++;
                } catch (IOException e) {
                    s.close();
                }
            }
            Thread.sleep(10_000);
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
        return opened;
    }

    /** 2,100 downloads of the kernel that are asked for and never read, held 10 s. */
    private long downloadHold() throws Exception {
        String script = legitHttp.send(HttpRequest.newBuilder(URI.create(base() + "/boot.ipxe?mac=" + LEGIT_MAC))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher kernel = Pattern.compile("(?m)^kernel http://[^/]+(/artifacts/[^?\\s]+)").matcher(script);
        if (!kernel.find()) {
            throw new IllegalStateException("no kernel in the script: " + script);
        }
        List<Socket> held = new ArrayList<>();
        InetAddress from = attacker(6);
        int sent = 0;
        try {
            for (int i = 0; i < 2100; i++) {
                Socket s = new Socket();
                try {
                    s.setReceiveBufferSize(4096);
                    s.bind(new InetSocketAddress(from, 0));
                    s.connect(new InetSocketAddress(SERVER, httpPort), 2000);
                    s.getOutputStream().write(("GET " + kernel.group(1) + " HTTP/1.1\r\nHost: x\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    held.add(s);
                    sent++;
                } catch (IOException e) {
                    s.close();
                }
            }
            Thread.sleep(10_000);
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
        return sent;
    }

    /** 8 label bodies announced as 140 MiB each, sent at full speed for up to 10 s each. */
    private long bigBodies() throws Exception {
        byte[] chunk = new byte[1 << 20];
        int sent = 0;
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < 8; i++) {
                pool.submit(() -> {
                    try (Socket s = new Socket()) {
                        s.bind(new InetSocketAddress(attacker(7), 0));
                        s.connect(new InetSocketAddress(SERVER, httpPort), 2000);
                        OutputStream out = s.getOutputStream();
                        out.write(("PUT /api/v1/machines/" + LEGIT_MAC + "/labels/big HTTP/1.1\r\nHost: x\r\n"
                                + "Authorization: Bearer " + apiToken + "\r\nContent-Length: " + (140L << 20)
                                + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                        for (int mb = 0; mb < 140 && System.nanoTime() < end; mb++) {
                            out.write(chunk);
                        }
                    } catch (IOException e) {
                        // the server closed on us: what a refusal looks like
                    }
                    return null;
                });
                sent++;
            }
        }
        return sent;
    }

    /** 8 parallel reads of the machine list, 10 rounds. */
    private long machinesRead() throws Exception {
        AtomicInteger n = new AtomicInteger();
        try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
            for (int i = 0; i < 80; i++) {
                pool.submit(() -> {
                    legitHttp.send(HttpRequest.newBuilder(URI.create(base() + "/api/v1/machines"))
                            .header("Authorization", "Bearer " + apiToken).timeout(Duration.ofSeconds(30)).build(),
                            HttpResponse.BodyHandlers.discarding());
                    n.incrementAndGet();
                    return null;
                });
            }
        }
        return n.get();
    }
}
