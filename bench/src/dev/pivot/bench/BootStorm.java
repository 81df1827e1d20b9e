package dev.pivot.bench;

import dev.pivot.boot.MacAddress;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * A boot storm: N simulated machines start at once, each on its own virtual thread, and do what a real one does
 * over HTTP: fetch {@code /boot.ipxe?mac=}, the kernel and initrds the script names, report stage 1 and network,
 * fetch the root image named by {@code pivot.root=}, report root_fetched and handover.
 *
 * <pre>BootStorm --url http://127.0.0.1:PORT --machines N [--deadline-seconds S] [--label NAME]</pre>
 *
 * <p>Raw HTTP/1.1 over blocking sockets, one connection per request like iPXE and busybox wget after a failure,
 * with bodies counted and checked against Content-Length, not kept: the client must cost as little CPU as
 * possible because it shares the machine with the server under test. Prints completions, failures, throughput
 * and p50/p99 per step, then one {@code RESULT} line for scripts.
 */
public final class BootStorm {

    private static final int READ_TIMEOUT_MS = 60_000;
    private static final int CONNECT_TIMEOUT_MS = 10_000;
    private static final List<String> STEPS = List.of("script", "kernel", "initrd", "report", "root", "boot");

    private final URI base;
    private final long deadlineNanos;
    private final Map<String, ConcurrentLinkedQueue<Long>> timings = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    private final long startNanos = System.nanoTime();
    private final LongAdder bytes = new LongAdder();
    private final AtomicInteger completed = new AtomicInteger();

    private BootStorm(URI base, long deadlineNanos) {
        this.base = base;
        this.deadlineNanos = deadlineNanos;
        STEPS.forEach(s -> timings.put(s, new ConcurrentLinkedQueue<>()));
    }

    /** The storm's machines: 52:54:00 (QEMU's prefix) and the index, so scripts for nginx can be laid out ahead. */
    public static MacAddress mac(int index) {
        return MacAddress.of(new byte[] {0x52, 0x54, 0x00, (byte) (index >> 16), (byte) (index >> 8), (byte) index});
    }

    public static void main(String[] args) throws Exception {
        String url = null;
        int machines = 100;
        int deadlineSeconds = 300;
        String label = "storm";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--url" -> url = args[i + 1];
                case "--machines" -> machines = Integer.parseInt(args[i + 1]);
                case "--deadline-seconds" -> deadlineSeconds = Integer.parseInt(args[i + 1]);
                case "--label" -> label = args[i + 1];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (url == null || machines < 1 || machines > 65536 || deadlineSeconds < 1) {
            throw new IllegalArgumentException(
                    "usage: BootStorm --url http://127.0.0.1:PORT --machines 1..65536 [--deadline-seconds S]");
        }
        long start = System.nanoTime();
        BootStorm storm = new BootStorm(URI.create(url), start + TimeUnit.SECONDS.toNanos(deadlineSeconds));
        storm.run(machines, deadlineSeconds);
        storm.print(label, machines, System.nanoTime() - start);
    }

    private void run(int machines, int deadlineSeconds) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < machines; i++) {
                MacAddress mac = mac(i);
                threads.submit(() -> {
                    go.await();
                    boot(mac);
                    return null;
                });
            }
            go.countDown();
            threads.shutdown();
            if (!threads.awaitTermination(deadlineSeconds + 5L, TimeUnit.SECONDS)) {
                // Interrupting a virtual thread blocked on a socket closes the socket: every machine ends now.
                threads.shutdownNow();
                fail("deadline");
            }
        }
    }

    private void boot(MacAddress mac) {
        long bootStart = System.nanoTime();
        try {
            String script = new String(get("script", base.resolve("/boot.ipxe?mac=" + mac), true),
                    StandardCharsets.UTF_8);
            Script parsed = Script.parse(script);
            // The boot's secret: reports count only with it.
            java.util.regex.Matcher secret = java.util.regex.Pattern.compile("pivot\\.token=([0-9a-f]+)")
                    .matcher(script);
            String token = secret.find() ? secret.group(1) : "";
            get("kernel", parsed.kernel(), false);
            for (URI initrd : parsed.initrds()) {
                get("initrd", initrd, false);
            }
            report(parsed.reportBase(), mac, token, "stage1");
            report(parsed.reportBase(), mac, token, "network");
            get("root", URI.create(parsed.root() + "?mac=" + mac), false);
            report(parsed.reportBase(), mac, token, "root_fetched");
            report(parsed.reportBase(), mac, token, "handover");
            timings.get("boot").add(System.nanoTime() - bootStart);
            completed.incrementAndGet();
        } catch (IOException | RuntimeException e) {
            fail(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        }
    }

    private void report(String reportBase, MacAddress mac, String token, String step) throws IOException {
        get("report", URI.create(reportBase + "/report?mac=" + mac + "&token=" + token + "&step=" + step
                + "&status=ok"), false);
    }

    private void fail(String reason) {
        failures.computeIfAbsent(reason.replaceAll("[0-9a-f]{64}", "<sha>"), r -> new AtomicInteger())
                .incrementAndGet();
    }

    /** One GET on a fresh connection; the body when {@code keep}, else only counted. */
    private byte[] get(String step, URI uri, boolean keep) throws IOException {
        if (System.nanoTime() > deadlineNanos) {
            throw new IOException("deadline passed before " + step);
        }
        long start = System.nanoTime();
        byte[] body;
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), CONNECT_TIMEOUT_MS);
            socket.setSoTimeout(READ_TIMEOUT_MS);
            String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
            OutputStream out = socket.getOutputStream();
            out.write(("GET " + target + " HTTP/1.1\r\nHost: " + uri.getHost() + ":" + uri.getPort()
                    + "\r\nUser-Agent: pivot-bootstorm\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            body = readResponse(step, socket.getInputStream(), keep);
        }
        long took = System.nanoTime() - start;
        timings.get(step).add(took);
        requests.add(new Request(step + " " + uri.getRawPath().replaceAll("[0-9a-f]{64}", "<sha>")
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()), start - startNanos, took));
        return body;
    }

    private byte[] readResponse(String step, InputStream in, boolean keep) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        int filled = 0;
        int headerEnd;
        while ((headerEnd = headerEnd(buffer, filled)) < 0) {
            if (filled == buffer.length) {
                throw new IOException(step + ": response header over 64 KiB");
            }
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                throw new IOException(step + ": connection closed inside the response header");
            }
            filled += n;
        }
        String[] lines = new String(buffer, 0, headerEnd, StandardCharsets.ISO_8859_1).split("\r\n");
        if (!lines[0].startsWith("HTTP/1.1 200") && !lines[0].startsWith("HTTP/1.0 200")) {
            throw new IOException(step + ": " + lines[0]);
        }
        long length = -1;
        for (String line : lines) {
            if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                length = Long.parseLong(line.substring(15).strip());
            }
        }
        if (length < 0) {
            throw new IOException(step + ": no Content-Length");
        }
        int bodyStart = headerEnd + 4;
        long got = filled - bodyStart;
        java.io.ByteArrayOutputStream kept = keep ? new java.io.ByteArrayOutputStream() : null;
        if (keep) {
            kept.write(buffer, bodyStart, filled - bodyStart);
        }
        while (got < length) {
            int n = in.read(buffer, 0, (int) Math.min(buffer.length, length - got));
            if (n < 0) {
                throw new IOException(step + ": connection closed after " + got + " of " + length + " bytes");
            }
            got += n;
            if (keep) {
                kept.write(buffer, 0, n);
            }
        }
        bytes.add(got);
        return keep ? kept.toByteArray() : new byte[0];
    }

    private static int headerEnd(byte[] b, int filled) {
        for (int i = 0; i + 3 < filled; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** One finished request, for the list of the slowest: what, when it started (from the storm's start), how long. */
    record Request(String what, long startedNanos, long tookNanos) {
    }

    /** What a machine needs from its iPXE script: the files to load and where stage 1 reports. */
    record Script(URI kernel, List<URI> initrds, String root, String reportBase) {

        static Script parse(String script) throws IOException {
            URI kernel = null;
            List<URI> initrds = new ArrayList<>();
            String root = null;
            String reportBase = null;
            for (String line : script.split("\n")) {
                String[] words = line.strip().split("\\s+");
                if (words[0].equals("kernel")) {
                    kernel = URI.create(words[1]);
                    for (String w : words) {
                        if (w.startsWith("pivot.root=")) {
                            root = w.substring("pivot.root=".length());
                        } else if (w.startsWith("pivot.url=")) {
                            reportBase = w.substring("pivot.url=".length());
                        }
                    }
                } else if (words[0].equals("initrd")) {
                    for (String w : words) {
                        if (w.startsWith("http://")) {
                            initrds.add(URI.create(w));
                        }
                    }
                }
            }
            if (kernel == null || initrds.isEmpty() || root == null || reportBase == null) {
                throw new IOException("script without kernel, initrd, pivot.root= or pivot.url=: "
                        + script.lines().limit(3).toList());
            }
            return new Script(kernel, initrds, root, reportBase);
        }
    }

    private void print(String label, int machines, long elapsedNanos) {
        double seconds = elapsedNanos / 1e9;
        int failed = failures.values().stream().mapToInt(AtomicInteger::get).sum();
        double mbPerSecond = bytes.sum() / seconds / 1e6;
        System.out.printf(Locale.ROOT, "%s: %d machines, %d completed, %d failed in %.2f s; %.1f MB/s, %.1f boots/s%n",
                label, machines, completed.get(), failed, seconds, mbPerSecond, completed.get() / seconds);
        new TreeMap<>(failures).forEach((reason, n) -> System.out.printf("  failure x%d: %s%n", n.get(), reason));
        System.out.printf("  %-7s %7s %10s %10s %10s%n", "step", "count", "p50 ms", "p99 ms", "max ms");
        for (String step : STEPS) {
            long[] sorted = timings.get(step).stream().mapToLong(Long::longValue).sorted().toArray();
            if (sorted.length == 0) {
                continue;
            }
            System.out.printf(Locale.ROOT, "  %-7s %7d %10.1f %10.1f %10.1f%n", step, sorted.length,
                    percentile(sorted, 50), percentile(sorted, 99), sorted[sorted.length - 1] / 1e6);
        }
        System.out.println("  slowest request of each step (started at +s after the storm began, took s):");
        for (String step : STEPS) {
            requests.stream().filter(r -> r.what().startsWith(step + " "))
                    .max(java.util.Comparator.comparingLong(Request::tookNanos))
                    .ifPresent(r -> System.out.printf(Locale.ROOT, "    +%6.2f %6.2f  %s%n",
                            r.startedNanos() / 1e9, r.tookNanos() / 1e9, r.what()));
        }
        StringBuilder p99s = new StringBuilder();
        for (String step : STEPS) {
            p99s.append(String.format(Locale.ROOT, " %s_p99_ms=%.1f", step, percentileOf(step, 99)));
        }
        System.out.printf(Locale.ROOT, "RESULT %s completed=%d failed=%d seconds=%.3f bytes=%d mbps=%.1f boot_p50_ms=%.1f"
                        + "%s%n", label, completed.get(), failed, seconds, bytes.sum(), mbPerSecond,
                percentileOf("boot", 50), p99s);
    }

    private double percentileOf(String step, int p) {
        long[] sorted = timings.get(step).stream().mapToLong(Long::longValue).sorted().toArray();
        return sorted.length == 0 ? Double.NaN : percentile(sorted, p);
    }

    /** Nearest-rank percentile, in milliseconds. */
    private static double percentile(long[] sorted, int p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, rank - 1)] / 1e6;
    }
}
