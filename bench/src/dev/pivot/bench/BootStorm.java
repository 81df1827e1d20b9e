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
 * <pre>BootStorm --url http://127.0.0.1:PORT[,http://127.0.0.1:PORT2…] --machines N [--deadline-seconds S]
 *           [--label NAME] [--ramp-seconds R] [--signal-after-scripts K --signal-file PATH]</pre>
 *
 * <p>With several servers (scripts that name every live server, {@code pivot.fallback=}) each machine falls back as
 * iPXE and stage 1 do: an artifact comes from the next URL of its {@code ||} chain when a fetch fails; reports and
 * the root image move to the next server of {@code pivot.url=} + {@code pivot.fallback=} and stay there, and the
 * root image resumes from the byte it had reached after stage 1's pause. Machine i fetches its script from the
 * i-th {@code --url} (round robin, as if that server had answered its DHCP) and from the next one when that fails
 * (a PXE retry the other server answers). {@code --ramp-seconds} spreads the starts, so that machines are in every
 * step when a server dies; the file {@code --signal-file} appears once K scripts were fetched (the bench kills a
 * server then).
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

    /** Stage 1's pause before its next try of the root image: try × 2 s, at most 10 s. */
    private static final int ROOT_TRIES = 5;

    private final List<URI> bases;
    private final long deadlineNanos;
    private final long rampNanos;
    private final int signalAfterScripts;
    private final java.nio.file.Path signalFile;
    private final AtomicInteger scriptsFetched = new AtomicInteger();
    /** step → server (host:port) → requests it answered. */
    private final Map<String, Map<String, LongAdder>> servedBy = new ConcurrentHashMap<>();
    /** step → failed tries that a machine got past by moving to another server. */
    private final Map<String, LongAdder> fellBack = new ConcurrentHashMap<>();
    /** Fetched before or after the signal file appeared, and how many servers the script named → scripts. */
    private final Map<String, LongAdder> scriptServers = new ConcurrentHashMap<>();
    private final Map<String, ConcurrentLinkedQueue<Long>> timings = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> failures = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    private final long startNanos = System.nanoTime();
    private final LongAdder bytes = new LongAdder();
    private final AtomicInteger completed = new AtomicInteger();

    private BootStorm(List<URI> bases, long deadlineNanos, long rampNanos, int signalAfterScripts,
                      java.nio.file.Path signalFile) {
        this.bases = bases;
        this.deadlineNanos = deadlineNanos;
        this.rampNanos = rampNanos;
        this.signalAfterScripts = signalAfterScripts;
        this.signalFile = signalFile;
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
        int rampSeconds = 0;
        int signalAfter = 0;
        String signalFile = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--url" -> url = args[i + 1];
                case "--machines" -> machines = Integer.parseInt(args[i + 1]);
                case "--deadline-seconds" -> deadlineSeconds = Integer.parseInt(args[i + 1]);
                case "--label" -> label = args[i + 1];
                case "--ramp-seconds" -> rampSeconds = Integer.parseInt(args[i + 1]);
                case "--signal-after-scripts" -> signalAfter = Integer.parseInt(args[i + 1]);
                case "--signal-file" -> signalFile = args[i + 1];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (url == null || machines < 1 || machines > 65536 || deadlineSeconds < 1 || rampSeconds < 0
                || rampSeconds >= deadlineSeconds || (signalAfter > 0) != (signalFile != null)) {
            throw new IllegalArgumentException("usage: BootStorm --url http://127.0.0.1:PORT[,URL…] --machines 1..65536"
                    + " [--deadline-seconds S] [--ramp-seconds R < S] [--signal-after-scripts K --signal-file PATH]");
        }
        List<URI> bases = java.util.Arrays.stream(url.split(",")).map(URI::create).toList();
        long start = System.nanoTime();
        BootStorm storm = new BootStorm(bases, start + TimeUnit.SECONDS.toNanos(deadlineSeconds),
                TimeUnit.SECONDS.toNanos(rampSeconds), signalAfter,
                signalFile == null ? null : java.nio.file.Path.of(signalFile));
        storm.run(machines, deadlineSeconds);
        storm.print(label, machines, System.nanoTime() - start);
    }

    private void run(int machines, int deadlineSeconds) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < machines; i++) {
                int index = i;
                threads.submit(() -> {
                    go.await();
                    long startAt = startNanos + rampNanos * index / machines;
                    long wait = startAt - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    boot(index);
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

    private void boot(int index) {
        MacAddress mac = mac(index);
        long bootStart = System.nanoTime();
        try {
            List<URI> scriptUrls = new ArrayList<>();
            for (int k = 0; k < bases.size(); k++) {
                scriptUrls.add(bases.get((index + k) % bases.size()).resolve("/boot.ipxe?mac=" + mac));
            }
            String script = new String(fetch("script", scriptUrls, true), StandardCharsets.UTF_8);
            if (signalFile != null && scriptsFetched.incrementAndGet() == signalAfterScripts) {
                java.nio.file.Files.writeString(signalFile, signalAfterScripts + " scripts fetched\n");
            }
            Script parsed = Script.parse(script);
            // Before the signal (the server killed), a script naming one server means a live one was left out.
            scriptServers.computeIfAbsent((signalFile != null && java.nio.file.Files.exists(signalFile) ? "after"
                            : "before") + " the signal, " + parsed.kernel().size(), k -> new LongAdder()).increment();
            // The boot's secret: reports count only with it.
            java.util.regex.Matcher secret = java.util.regex.Pattern.compile("pivot\\.token=([0-9a-f]+)")
                    .matcher(script);
            String token = secret.find() ? secret.group(1) : "";
            fetch("kernel", parsed.kernel(), false);
            for (List<URI> initrd : parsed.initrds()) {
                fetch("initrd", initrd, false);
            }
            Stage1 stage1 = new Stage1(parsed.reportBase(), parsed.fallback(), parsed.root());
            report(stage1, mac, token, "stage1");
            report(stage1, mac, token, "network");
            fetchRoot(stage1, mac);
            report(stage1, mac, token, "root_fetched");
            report(stage1, mac, token, "handover");
            timings.get("boot").add(System.nanoTime() - bootStart);
            completed.incrementAndGet();
        } catch (IOException | RuntimeException e) {
            fail(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        } catch (InterruptedException e) {
            fail("interrupted");
        }
    }

    /**
     * Stage 1's servers: {@code pivot.url=} first, then {@code pivot.fallback=}; {@link #next} moves to the next
     * one and puts the failed one last, as the prelude's {@code next_server} does, and the root image's URL follows.
     */
    private static final class Stage1 {
        private final java.util.ArrayDeque<String> others;
        private String url;
        private String root;

        Stage1(String url, List<String> fallback, String root) {
            this.url = url;
            this.others = new java.util.ArrayDeque<>(fallback);
            this.root = root;
        }

        int servers() {
            return others.size() + 1;
        }

        boolean next() {
            if (others.isEmpty()) {
                return false;
            }
            String old = url;
            url = others.removeFirst();
            others.addLast(old);
            if (root.startsWith(old + "/")) {
                root = url + root.substring(old.length());
            }
            return true;
        }
    }

    /** A report as stage 1 sends it: each server tried once, moving on (and staying) where one answers. */
    private void report(Stage1 stage1, MacAddress mac, String token, String step) throws IOException {
        long start = System.nanoTime();
        for (int tried = 1; ; tried++) {
            try {
                attempt("report", URI.create(stage1.url + "/report?mac=" + mac + "&token=" + token + "&step=" + step
                        + "&status=ok"), false, null);
                break;
            } catch (IOException e) {
                if (tried >= stage1.servers() || !stage1.next()) {
                    throw new IOException("report " + step + " not delivered: " + e.getMessage(), e);
                }
                fellBack.computeIfAbsent("report", k -> new LongAdder()).increment();
            }
        }
        timings.get("report").add(System.nanoTime() - start);
    }

    /**
     * The root image as stage 1 fetches it: {@code wget -c} resumes from the bytes it has, from the next server
     * after each failed try, with its pause (try × 2 s, at most 10 s) between tries.
     */
    private void fetchRoot(Stage1 stage1, MacAddress mac) throws IOException, InterruptedException {
        long start = System.nanoTime();
        long[] have = {0};
        for (int tried = 1; ; tried++) {
            try {
                attempt("root", URI.create(stage1.root + "?mac=" + mac), false, have);
                break;
            } catch (IOException e) {
                if (tried >= ROOT_TRIES) {
                    throw new IOException("root image: " + tried + " tries failed, the last: " + e.getMessage(), e);
                }
                stage1.next();
                fellBack.computeIfAbsent("root", k -> new LongAdder()).increment();
                TimeUnit.SECONDS.sleep(Math.min(10, tried * 2L));
            }
        }
        timings.get("root").add(System.nanoTime() - start);
    }

    private void fail(String reason) {
        failures.computeIfAbsent(reason.replaceAll("[0-9a-f]{64}", "<sha>"), r -> new AtomicInteger())
                .incrementAndGet();
    }

    /** One step as iPXE does it: the first URL of its {@code ||} chain that answers; timed over all tries. */
    private byte[] fetch(String step, List<URI> alternatives, boolean keep) throws IOException {
        long start = System.nanoTime();
        IOException last = null;
        for (URI uri : alternatives) {
            try {
                byte[] body = attempt(step, uri, keep, null);
                timings.get(step).add(System.nanoTime() - start);
                return body;
            } catch (IOException e) {
                last = e;
                fellBack.computeIfAbsent(step, k -> new LongAdder()).increment();
            }
        }
        throw alternatives.size() == 1 ? last
                : new IOException("all " + alternatives.size() + " servers failed, the last: " + last.getMessage(), last);
    }

    /**
     * One GET on a fresh connection; the body when {@code keep}, else only counted. With {@code have}, asks for the
     * bytes from {@code have[0]} on (a resumed download) and advances it as bytes arrive, also when the transfer
     * breaks off.
     */
    private byte[] attempt(String step, URI uri, boolean keep, long[] have) throws IOException {
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
                    + "\r\nUser-Agent: pivot-bootstorm\r\nConnection: close\r\n"
                    + (have != null && have[0] > 0 ? "Range: bytes=" + have[0] + "-\r\n" : "") + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            body = readResponse(step, socket.getInputStream(), keep, have);
        } catch (IOException e) {
            throw new IOException(e.getMessage() != null && e.getMessage().startsWith(step + ": ") ? e.getMessage()
                    : step + ": " + e.getMessage(), e);
        }
        long took = System.nanoTime() - start;
        servedBy.computeIfAbsent(step, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(uri.getHost() + ":" + uri.getPort(), k -> new LongAdder()).increment();
        requests.add(new Request(step + " " + uri.getRawPath().replaceAll("[0-9a-f]{64}", "<sha>")
                + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery()), start - startNanos, took));
        return body;
    }

    private byte[] readResponse(String step, InputStream in, boolean keep, long[] have) throws IOException {
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
        boolean resumed = have != null && have[0] > 0;
        if (resumed ? !lines[0].startsWith("HTTP/1.1 206") : !lines[0].startsWith("HTTP/1.1 200")
                && !lines[0].startsWith("HTTP/1.0 200")) {
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
            int n;
            try {
                n = in.read(buffer, 0, (int) Math.min(buffer.length, length - got));
            } catch (IOException e) {
                counted(have, got);
                throw e;
            }
            if (n < 0) {
                counted(have, got);
                throw new IOException(step + ": connection closed after " + got + " of " + length + " bytes");
            }
            got += n;
            if (keep) {
                kept.write(buffer, 0, n);
            }
        }
        counted(have, got);
        return keep ? kept.toByteArray() : new byte[0];
    }

    private void counted(long[] have, long got) {
        bytes.add(got);
        if (have != null) {
            have[0] += got;
        }
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

    /**
     * What a machine needs from its iPXE script: the files to load, each with the URLs of its {@code ||} chain in
     * order, where stage 1 reports ({@code pivot.url=}) and its other servers ({@code pivot.fallback=}).
     */
    record Script(List<URI> kernel, List<List<URI>> initrds, String root, String reportBase, List<String> fallback) {

        static Script parse(String script) throws IOException {
            List<URI> kernel = new ArrayList<>();
            List<List<URI>> initrds = new ArrayList<>();
            String root = null;
            String reportBase = null;
            List<String> fallback = List.of();
            for (String line : script.split("\n")) {
                String first = line.strip().split("\\s+")[0];
                if (!first.equals("kernel") && !first.equals("initrd")) {
                    continue;
                }
                List<URI> chain = new ArrayList<>();
                for (String command : line.strip().split(" \\|\\| ")) {
                    String[] words = command.strip().split("\\s+");
                    if (!words[0].equals(first)) {
                        continue; // goto failed_…
                    }
                    for (String w : words) {
                        if (w.startsWith("http://")) {
                            chain.add(URI.create(w));
                            break;
                        }
                    }
                    if (first.equals("kernel") && reportBase == null) {
                        for (String w : words) {
                            if (w.startsWith("pivot.root=")) {
                                root = w.substring("pivot.root=".length());
                            } else if (w.startsWith("pivot.url=")) {
                                reportBase = w.substring("pivot.url=".length());
                            } else if (w.startsWith("pivot.fallback=")) {
                                fallback = List.of(w.substring("pivot.fallback=".length()).split(","));
                            }
                        }
                    }
                }
                if (first.equals("kernel")) {
                    kernel = chain;
                } else if (!chain.isEmpty()) {
                    initrds.add(chain);
                }
            }
            if (kernel.isEmpty() || initrds.isEmpty() || root == null || reportBase == null) {
                throw new IOException("script without kernel, initrd, pivot.root= or pivot.url=: "
                        + script.lines().limit(3).toList());
            }
            return new Script(kernel, initrds, root, reportBase, fallback);
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
        if (bases.size() > 1 || !fellBack.isEmpty()) {
            StringBuilder named = new StringBuilder();
            new TreeMap<>(scriptServers).forEach((n, count) -> named.append("; ").append(n).append(" server(s): ")
                    .append(count.sum()));
            System.out.println("  scripts by the servers they name (fetched before/after the signal file appeared)"
                    + named);
            System.out.println("  served by (requests each server answered) and tries that failed and moved on:");
            for (String step : List.of("script", "kernel", "initrd", "report", "root")) {
                StringBuilder line = new StringBuilder();
                new TreeMap<>(servedBy.getOrDefault(step, Map.of()))
                        .forEach((server, n) -> line.append(' ').append(server).append('=').append(n.sum()));
                LongAdder moved = fellBack.get(step);
                System.out.printf(Locale.ROOT, "    %-7s%s; failed tries moved on: %d%n", step, line,
                        moved == null ? 0 : moved.sum());
            }
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
