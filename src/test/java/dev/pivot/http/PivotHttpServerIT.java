package dev.pivot.http;

import dev.pivot.loaders.IpxeScript;
import dev.pivot.testsupport.TestFiles;
import dev.pivot.boot.AddressBook;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.ArtifactSource;
import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The HTTP server on 127.0.0.1, port 0, driven by the real curl. */
class PivotHttpServerIT {

    static final MacAddress MAC = MacAddress.parse("52:54:00:aa:bb:01");
    static final MacAddress OTHER_MAC = MacAddress.parse("52:54:00:aa:bb:02");
    /** 5 GiB: past 2 GiB (int offsets) and 4 GiB (32-bit sizes, cpio's limit). */
    static final long HUGE_SIZE = 5L << 30;
    static final long HUGE_MARK_OFFSET = (4L << 30) + 123_456_789L;

    @TempDir
    static Path dir;

    static TestArtifacts artifacts;
    static AddressBook addresses;
    static final List<BootEvent> events = new CopyOnWriteArrayList<>();
    /** Sinks are called on the request's thread: this records which kind of thread that was. */
    static final List<Boolean> emittedOnVirtualThread = new CopyOnWriteArrayList<>();
    static PivotHttpServer server;
    static String base;
    static Curl curl;
    static BootSpec spec;
    static Artifact kernel, initrd, prelude, root, huge;
    static byte[] hugeMark;

    /** The tests' stand-in for the content-addressed store: sha → file. */
    static final class TestArtifacts implements ArtifactSource {
        final Map<String, Artifact> bySha = new ConcurrentHashMap<>();
        final Map<Artifact, Path> paths = new ConcurrentHashMap<>();

        Artifact add(Path file, String name, String sha) throws IOException {
            Artifact a = new Artifact(sha, Files.size(file), name);
            bySha.put(sha, a);
            paths.put(a, file);
            return a;
        }

        Artifact add(Path file, String name) throws Exception {
            return add(file, name, TestFiles.sha256(file));
        }

        @Override
        public Optional<Artifact> find(String sha256) {
            return Optional.ofNullable(bySha.get(sha256));
        }

        @Override
        public Path path(Artifact artifact) {
            return paths.get(artifact);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        curl = new Curl(Files.createDirectories(dir.resolve("curl")));
        artifacts = new TestArtifacts();
        kernel = artifacts.add(randomFile("bzImage", 300_000, 1), "bzImage");
        initrd = artifacts.add(randomFile("initrd", 200_001, 2), "initrd");
        prelude = artifacts.add(randomFile("pivot.cpio.gz", 50_000, 3), "pivot.cpio.gz");
        root = artifacts.add(randomFile("nix-store.squashfs", 48 << 20, 4), "nix-store.squashfs");
        huge = artifacts.add(hugeSparseFile(), "huge.squashfs", "e".repeat(64)); // a made-up sha: the server never hashes
        spec = new BootSpec(kernel, List.of(initrd, prelude), root, "/nix/store/abc-nixos-system-test/init",
                List.of("console=ttyS0,115200", "loglevel=7"), "/pivot/init");
        // Every machine but OTHER_MAC boots the spec, so each test can use its own MAC and find its own events.
        BootCatalog catalog = mac -> mac.equals(OTHER_MAC) ? Optional.empty() : Optional.of(spec);
        addresses = new AddressBook();
        Path ipxeDir = Files.createDirectories(dir.resolve("ipxe"));
        Files.write(ipxeDir.resolve("ipxe.efi"), "MZ fake efi".getBytes(StandardCharsets.US_ASCII));
        Files.writeString(dir.resolve("secret.txt"), "do not serve");

        server = new PivotHttpServer(new HttpConfig(InetAddress.getLoopbackAddress(), 0, Optional.empty(), ipxeDir),
                catalog, artifacts, addresses, event -> {
                    emittedOnVirtualThread.add(Thread.currentThread().isVirtual());
                    events.add(event);
                });
        server.start();
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static Path randomFile(String name, int size, long seed) throws IOException {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return Files.write(dir.resolve(name), bytes);
    }

    /** Sparse: only the marker past 4 GiB takes disk space. */
    static Path hugeSparseFile() throws IOException {
        Path file = dir.resolve("huge.squashfs");
        hugeMark = new byte[1 << 20];
        new Random(5).nextBytes(hugeMark);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(HUGE_SIZE);
            raf.seek(HUGE_MARK_OFFSET);
            raf.write(hugeMark);
        }
        return file;
    }

    /** The secret of a new boot of {@code mac}, as its script carries it. */
    private String token(MacAddress mac) throws Exception {
        return tokenIn(curl.get(base + "/boot.ipxe?mac=" + mac).text());
    }

    static String tokenIn(String script) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" pivot\\.token=([0-9a-f]+) ").matcher(script);
        assertThat(m.find()).as("pivot.token= in the script").isTrue();
        return m.group(1);
    }

    /** {@code url} as a machine's script names it: with its MAC and this boot's secret. */
    private String tagged(String url, MacAddress mac) throws Exception {
        return url + "?mac=" + mac + "&token=" + token(mac);
    }

    static String url(Artifact a) {
        return base + "/artifacts/" + a.sha256() + "/" + a.name();
    }

    static byte[] bytes(Artifact a, long from, int length) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(artifacts.path(a).toFile(), "r")) {
            byte[] out = new byte[length];
            raf.seek(from);
            raf.readFully(out);
            return out;
        }
    }

    static BootEvent awaitEvent(Predicate<BootEvent> which) throws InterruptedException {
        Instant until = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(until)) {
            Optional<BootEvent> found = events.stream().filter(which).findFirst();
            if (found.isPresent()) {
                return found.get();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no such event within 10 s; events: " + events);
    }

    // ---- artifacts: whole, ranges, validators ----

    @Test
    void wholeArtifactWithItsHeaders() throws Exception {
        Curl.Result r = curl.get(url(initrd));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(Files.readAllBytes(artifacts.path(initrd)));
        assertThat(r.header("content-length")).isEqualTo(String.valueOf(initrd.size()));
        assertThat(r.header("etag")).isEqualTo("\"" + initrd.sha256() + "\"");
        assertThat(r.header("accept-ranges")).isEqualTo("bytes");
        assertThat(r.header("cache-control")).isEqualTo("public, max-age=31536000, immutable");
        assertThat(r.header("content-type")).isEqualTo("application/octet-stream");
        assertThat(r.header("last-modified")).isNotBlank();
    }

    @Test
    void singleRanges() throws Exception {
        long size = initrd.size();
        Curl.Result first = curl.get(url(initrd), "-r", "0-0");
        assertThat(first.status()).isEqualTo(206);
        assertThat(first.body()).isEqualTo(bytes(initrd, 0, 1));
        assertThat(first.header("content-range")).isEqualTo("bytes 0-0/" + size);
        assertThat(first.header("content-length")).isEqualTo("1");

        Curl.Result last = curl.get(url(initrd), "-r", (size - 1) + "-" + (size - 1));
        assertThat(last.status()).isEqualTo(206);
        assertThat(last.body()).isEqualTo(bytes(initrd, size - 1, 1));
        assertThat(last.header("content-range")).isEqualTo("bytes " + (size - 1) + "-" + (size - 1) + "/" + size);

        Curl.Result suffix = curl.get(url(initrd), "-r", "-100");
        assertThat(suffix.status()).isEqualTo(206);
        assertThat(suffix.body()).isEqualTo(bytes(initrd, size - 100, 100));
        assertThat(suffix.header("content-range")).isEqualTo("bytes " + (size - 100) + "-" + (size - 1) + "/" + size);
        assertThat(suffix.header("content-length")).isEqualTo("100");

        Curl.Result open = curl.get(url(initrd), "-r", "1000-");
        assertThat(open.status()).isEqualTo(206);
        assertThat(open.body()).isEqualTo(bytes(initrd, 1000, (int) size - 1000));
        assertThat(open.header("content-length")).isEqualTo(String.valueOf(size - 1000));

        Curl.Result middle = curl.get(url(initrd), "-r", "100-199");
        assertThat(middle.body()).isEqualTo(bytes(initrd, 100, 100));
    }

    @Test
    void rangePastTheEndIs416WithTheSize() throws Exception {
        Curl.Result r = curl.get(url(initrd), "-r", initrd.size() + "-");
        assertThat(r.status()).isEqualTo(416);
        assertThat(r.header("content-range")).isEqualTo("bytes */" + initrd.size());
        assertThat(r.header("content-length")).isEqualTo("0");
    }

    @Test
    void multipleRangesGetTheWholeArtifact() throws Exception {
        Curl.Result r = curl.get(url(initrd), "-r", "0-9,100-109");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(Files.readAllBytes(artifacts.path(initrd)));
    }

    @Test
    void headHasTheSameHeadersAsGet() throws Exception {
        for (String[] options : List.of(new String[0], new String[]{"-r", "10-19"}, new String[]{"-r", "-5"})) {
            Curl.Result get = curl.get(url(kernel), options);
            String[] headOptions = Arrays.copyOf(options, options.length + 1);
            headOptions[options.length] = "-I";
            Curl.Result head = curl.get(url(kernel), headOptions);
            assertThat(head.status()).isEqualTo(get.status());
            Map<String, String> g = new HashMap<>(get.headers());
            Map<String, String> h = new HashMap<>(head.headers());
            g.remove("date");
            h.remove("date");
            assertThat(h).isEqualTo(g);
        }
    }

    @Test
    void ifNoneMatchAndIfModifiedSinceAnswer304() throws Exception {
        Curl.Result first = curl.get(url(prelude));
        Curl.Result etag = curl.get(url(prelude), "-H", "If-None-Match: " + first.header("etag"));
        assertThat(etag.status()).isEqualTo(304);
        assertThat(etag.body()).isEmpty();
        assertThat(etag.header("etag")).isEqualTo(first.header("etag"));
        // RFC 9110 §8.6: on a 304, Content-Length may only be the size a 200 would have had.
        assertThat(etag.header("content-length")).isEqualTo(String.valueOf(prelude.size()));

        Curl.Result date = curl.get(url(prelude), "-H", "If-Modified-Since: " + first.header("last-modified"));
        assertThat(date.status()).isEqualTo(304);

        Curl.Result other = curl.get(url(prelude), "-H", "If-None-Match: \"something-else\"");
        assertThat(other.status()).isEqualTo(200);
        assertThat(other.body()).hasSize((int) prelude.size());
    }

    @Test
    void ifRangeGivesTheRangeOnlyWhileTheEtagMatches() throws Exception {
        String etag = "\"" + kernel.sha256() + "\"";
        Curl.Result match = curl.get(url(kernel), "-r", "5-9", "-H", "If-Range: " + etag);
        assertThat(match.status()).isEqualTo(206);
        assertThat(match.body()).isEqualTo(bytes(kernel, 5, 5));

        Curl.Result mismatch = curl.get(url(kernel), "-r", "5-9", "-H", "If-Range: \"" + "0".repeat(64) + "\"");
        assertThat(mismatch.status()).isEqualTo(200);
        assertThat(mismatch.body()).isEqualTo(Files.readAllBytes(artifacts.path(kernel)));
    }

    @Test
    void aStoreThatLostItsFileIs500AndTheServerGoesOn() throws Exception {
        Path gone = randomFile("gone.bin", 10, 9);
        Artifact lost = artifacts.add(gone, "gone.bin");
        Files.delete(gone);
        Curl.Result r = curl.get(url(lost));
        assertThat(r.status()).isEqualTo(500);
        assertThat(r.text()).isEqualTo("internal error, see the server log\n");
        assertThat(curl.get(url(prelude)).status()).isEqualTo(200);
    }

    @Test
    void unknownShaIs404() throws Exception {
        Curl.Result r = curl.get(base + "/artifacts/" + "0".repeat(64) + "/bzImage");
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.text()).contains("unknown artifact");
        assertThat(r.header("content-length")).isEqualTo(String.valueOf(r.body().length));
    }

    @Test
    void interruptedDownloadResumedWithRangeEqualsTheOriginal() throws Exception {
        Path partial = dir.resolve("resumed.squashfs");
        MacAddress mac = MacAddress.parse("52:54:00:aa:bb:10");
        // Slow enough that one second gets only part of it: curl gives up (exit 28) and leaves a partial file.
        String tagged = tagged(url(root), mac);
        Curl.Result cut = curl.run(partial, tagged, "--limit-rate", "4M", "--max-time", "1");
        assertThat(cut.exit()).isEqualTo(28);
        assertThat(Files.size(partial)).isBetween(1L, root.size() - 1);

        BootEvent failed = awaitEvent(e -> e.mac().equals(mac) && e.step() == Step.ROOT_IMAGE && e.failed());
        assertThat(failed.detail()).contains("client closed after");

        Curl.Result resumed = curl.run(partial, tagged, "-C", "-");
        assertThat(resumed.exit()).isZero();
        assertThat(resumed.status()).isEqualTo(206);
        assertThat(TestFiles.sha256(partial)).isEqualTo(root.sha256());

        BootEvent ok = awaitEvent(e -> e.mac().equals(mac) && e.step() == Step.ROOT_IMAGE && !e.failed());
        assertThat(ok.bytes()).isEqualTo(Long.parseLong(resumed.header("content-length")));
        assertThat(ok.detail()).startsWith("nix-store.squashfs bytes ");
    }

    @Test
    void rangesBeyondFourGibOfASparseFiveGibFile() throws Exception {
        Curl.Result mark = curl.get(url(huge), "-r", HUGE_MARK_OFFSET + "-" + (HUGE_MARK_OFFSET + hugeMark.length - 1));
        assertThat(mark.status()).isEqualTo(206);
        assertThat(mark.body()).isEqualTo(hugeMark);
        assertThat(mark.header("content-range"))
                .isEqualTo("bytes " + HUGE_MARK_OFFSET + "-" + (HUGE_MARK_OFFSET + hugeMark.length - 1) + "/" + HUGE_SIZE);

        // Straddling 4 GiB, where a 32-bit offset would wrap: zeros then the mark's first bytes.
        long from = HUGE_MARK_OFFSET - 16;
        Curl.Result straddle = curl.get(url(huge), "-r", from + "-" + (from + 31));
        byte[] expected = new byte[32];
        System.arraycopy(hugeMark, 0, expected, 16, 16);
        assertThat(straddle.status()).isEqualTo(206);
        assertThat(straddle.body()).isEqualTo(expected);

        Curl.Result head = curl.get(url(huge), "-I");
        assertThat(head.header("content-length")).isEqualTo(String.valueOf(HUGE_SIZE));

        Curl.Result tail = curl.get(url(huge), "-r", "-10");
        assertThat(tail.status()).isEqualTo(206);
        assertThat(tail.header("content-range")).isEqualTo("bytes " + (HUGE_SIZE - 10) + "-" + (HUGE_SIZE - 1) + "/" + HUGE_SIZE);
        assertThat(tail.body()).isEqualTo(new byte[10]);
    }

    // ---- how bodies go out: sendfile, keep-alive after it, and the copying path ----

    @Test
    void plainGetGoesOutWithSendfileAndTheConnectionIsReusedAfterIt() throws Exception {
        long zeroCopyBefore = server.zeroCopyBodyBytes();
        long copiedBefore = server.copiedBodyBytes();
        Path first = dir.resolve("reuse-1");
        Path second = dir.resolve("reuse-2");
        // One curl, two downloads: curl keeps the connection when the first reply ended where its Content-Length
        // said, and %{num_connects} is 0 for a transfer that reused it.
        Process p = new ProcessBuilder("curl", "-sS", "--http1.1", "-w", "%{http_code} %{num_connects}\n",
                "-o", first.toString(), url(root), "-o", second.toString(), url(initrd) + "?x=1")
                .redirectErrorStream(false).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("curl: %s", out).isZero();
        assertThat(out).isEqualTo("200 1\n200 0\n");
        assertThat(TestFiles.sha256(first)).isEqualTo(root.sha256());
        assertThat(TestFiles.sha256(second)).isEqualTo(initrd.sha256());
        assertThat(server.zeroCopyBodyBytes() - zeroCopyBefore).isEqualTo(root.size() + initrd.size());
        assertThat(server.copiedBodyBytes() - copiedBefore).isZero();
    }

    @Test
    void aClientThatHangsUpMidBodyIsAnEventAndTheServerGoesOn() throws Exception {
        MacAddress mac = MacAddress.parse("52:54:00:aa:bb:16");
        String token = token(mac);
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            s.getOutputStream().write(("GET /artifacts/" + root.sha256() + "/" + root.name() + "?mac=" + mac
                    + "&token=" + token + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getInputStream().readNBytes(64 * 1024);
            s.setSoLinger(true, 0); // hang up hard, with most of the 48 MiB still to come
        }
        BootEvent e = awaitEvent(x -> x.mac().equals(mac) && x.step() == Step.ROOT_IMAGE);
        assertThat(e.failed()).isTrue();
        assertThat(e.detail()).startsWith("nix-store.squashfs: client closed after ").endsWith(" of " + root.size() + " bytes");
        assertThat(e.bytes()).isBetween(64L * 1024, root.size() - 1);

        Curl.Result again = curl.get(url(root));
        assertThat(again.status()).isEqualTo(200);
        assertThat(Arrays.equals(again.body(), Files.readAllBytes(artifacts.path(root)))).isTrue();
    }

    @Test
    void withoutSendfileTheBodiesAreCopiedAndTheSame() throws Exception {
        try (PivotHttpServer copying = new PivotHttpServer(new HttpConfig(InetAddress.getLoopbackAddress(), 0,
                Optional.empty(), dir), mac -> Optional.of(spec), artifacts, new AddressBook(), e -> { },
                ExtraRoutes.NONE, false)) {
            copying.start();
            String at = "http://127.0.0.1:" + copying.port() + "/artifacts/";
            Curl.Result whole = curl.get(at + root.sha256() + "/" + root.name());
            assertThat(whole.status()).isEqualTo(200);
            assertThat(Arrays.equals(whole.body(), Files.readAllBytes(artifacts.path(root)))).isTrue();
            Curl.Result part = curl.get(at + kernel.sha256() + "/" + kernel.name(), "-r", "100-199");
            assertThat(part.status()).isEqualTo(206);
            assertThat(part.body()).isEqualTo(bytes(kernel, 100, 100));
            // The count follows the write, which may finish after curl has the bytes: wait for it, with a deadline.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (copying.copiedBodyBytes() < root.size() + 100 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(copying.copiedBodyBytes()).isEqualTo(root.size() + 100);
            assertThat(copying.zeroCopyBodyBytes()).isZero();
        }
    }

    // ---- events for transfers ----

    @Test
    void transfersAreEventsForTheMachineNamedByMacOrAddress() throws Exception {
        MacAddress mac = MacAddress.parse("52:54:00:aa:bb:13");
        // A ?mac= without the boot's secret names nobody: anyone could type a MAC.
        Curl.Result forged = curl.get(url(initrd) + "?mac=" + mac + "&token=" + "0".repeat(48));
        assertThat(forged.status()).isEqualTo(200);
        Curl.Result r = curl.get(tagged(url(kernel), mac));
        assertThat(r.status()).isEqualTo(200);
        BootEvent k = awaitEvent(e -> e.mac().equals(mac) && e.step() == Step.KERNEL);
        assertThat(events).filteredOn(e -> e.mac().equals(mac) && e.step() == Step.INITRD).isEmpty();
        assertThat(k.failed()).isFalse();
        assertThat(k.bytes()).isEqualTo(kernel.size());
        assertThat(k.detail()).isEqualTo("bzImage");

        // No ?mac=: the address DHCP handed out names the machine.
        addresses.learn(InetAddress.getByName("127.0.0.1"), mac);
        curl.get(url(prelude));
        BootEvent p = awaitEvent(e -> e.mac().equals(mac) && e.step() == Step.INITRD);
        assertThat(p.detail()).isEqualTo("pivot.cpio.gz");
        assertThat(p.bytes()).isEqualTo(prelude.size());
    }

    @Test
    void badMacParameterIs400() throws Exception {
        Curl.Result r = curl.get(url(kernel) + "?mac=nonsense");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.text()).isEqualTo("bad mac parameter: not a MAC address: 'nonsense'\n");
    }

    // ---- scripts ----

    @Test
    void grubConfigsBootstrapThenPerMachineWithItsSecretOverHttp() throws Exception {
        MacAddress mac = MacAddress.parse("52:54:00:aa:bb:19");
        Curl.Result first = curl.get(base + "/grub/grub.cfg");
        assertThat(first.status()).isEqualTo(200);
        assertThat(first.text()).isEqualTo(dev.pivot.loaders.GrubConfig.bootstrap());
        Curl.Result r = curl.get(base + "/grub/machine/" + mac + ".cfg");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("cache-control")).isEqualTo("no-store");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("'pivot\\.token=([0-9a-f]+)'").matcher(r.text());
        assertThat(m.find()).as("pivot.token= in grub.cfg").isTrue();
        String t = m.group(1);
        assertThat(r.text()).isEqualTo(dev.pivot.loaders.GrubConfig.overHttp(spec, base, mac, Optional.of(t)));
        BootEvent e = awaitEvent(x -> x.mac().equals(mac) && x.step() == Step.SCRIPT);
        assertThat(e.failed()).isFalse();
        assertThat(e.detail()).isEqualTo("grub.cfg");
        assertThat(curl.get(base + "/grub/x86_64-efi/command.lst").status()).as("GRUB's module lists: none").isEqualTo(404);
    }

    @Test
    void scriptForAKnownMachine() throws Exception {
        MacAddress mac = MacAddress.parse("52:54:00:aa:bb:14");
        Curl.Result r = curl.get(base + "/boot.ipxe?mac=" + mac.dashed().toUpperCase());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("content-type")).startsWith("text/plain");
        assertThat(r.header("content-length")).isEqualTo(String.valueOf(r.body().length));
        String t = tokenIn(r.text());
        assertThat(r.text()).isEqualTo(IpxeScript.forMachine(spec, base, mac, Optional.of(t)));
        assertThat(r.text()).contains("kernel " + url(kernel) + "?mac=" + mac + "&token=" + t
                + " initrd=initrd initrd=pivot.cpio.gz rdinit=/pivot/init pivot.url=" + base + " pivot.mac=" + mac
                + " pivot.token=" + t + " pivot.root=" + url(root)
                + " pivot.sha256=" + root.sha256() + " pivot.size=" + root.size() + " init=/nix/store/abc-nixos-system-test/init "
                + "console=ttyS0,115200 loglevel=7 pivot.ip=${ip} pivot.netmask=${netmask} pivot.gateway=${gateway} "
                + "pivot.dns=${dns} || goto failed_kernel");
        assertThat(r.text()).contains("initrd --name initrd " + url(initrd) + "?mac=" + mac + "&token=" + t);
        assertThat(tokenIn(curl.get(base + "/boot.ipxe?mac=" + mac).text())).as("a new secret per script")
                .isNotEqualTo(t);
        BootEvent e = awaitEvent(x -> x.mac().equals(mac) && x.step() == Step.SCRIPT);
        assertThat(e.failed()).isFalse();
        assertThat(e.bytes()).isEqualTo(r.body().length);
    }

    @Test
    void scriptNamesTheAddressTheClientReachedNotItsHostHeader() throws Exception {
        Curl.Result r = curl.get(base + "/boot.ipxe?mac=" + MAC, "-H", "Host: 10.9.8.7:8080");
        assertThat(r.text()).contains("pivot.url=" + base + " ").doesNotContain("10.9.8.7");
        HttpGuard trusting = new HttpGuard(dev.pivot.boot.BootSecrets.ephemeral(), new dev.pivot.boot.Refusals(),
                100, 10, java.time.Duration.ofSeconds(30), 100, 10, 10, 65536, true);
        try (PivotHttpServer proxied = new PivotHttpServer(new HttpConfig(InetAddress.getLoopbackAddress(), 0,
                Optional.empty(), dir), mac -> Optional.of(spec), artifacts, new AddressBook(), e -> { },
                ExtraRoutes.NONE, trusting)) {
            proxied.start();
            String at = "http://127.0.0.1:" + proxied.port();
            assertThat(curl.get(at + "/boot.ipxe?mac=" + MAC, "-H", "Host: 10.9.8.7:8080").text())
                    .contains("pivot.url=http://10.9.8.7:8080 ");
            // A Host that Jetty lets through but that must not go into a script: the connection's address is used.
            Curl.Result odd = curl.get(at + "/boot.ipxe?mac=" + MAC, "-H", "Host: a;b$c");
            assertThat(odd.status()).isEqualTo(200);
            assertThat(odd.text()).contains("pivot.url=" + at + " ").doesNotContain("a;b");
        }
    }

    @Test
    void configuredBaseUrlWinsOverTheHostHeader() throws Exception {
        try (PivotHttpServer other = new PivotHttpServer(new HttpConfig(InetAddress.getLoopbackAddress(), 0,
                Optional.of("http://boot.example:8080"), dir), mac -> Optional.of(spec), artifacts, new AddressBook(),
                e -> { })) {
            other.start();
            Curl.Result r = curl.get("http://127.0.0.1:" + other.port() + "/boot.ipxe?mac=" + MAC);
            assertThat(r.text()).isEqualTo(IpxeScript.forMachine(spec, "http://boot.example:8080", MAC,
                    Optional.of(tokenIn(r.text()))));
        }
    }

    @Test
    void headOfAScriptMatchesGetAndIsNoEvent() throws Exception {
        MacAddress mac = MacAddress.parse("52:54:00:aa:bb:15");
        Curl.Result head = curl.get(base + "/boot.ipxe?mac=" + mac, "-I");
        assertThat(head.status()).isEqualTo(200);
        assertThat(eventsOf(mac)).isEmpty();
        Curl.Result get = curl.get(base + "/boot.ipxe?mac=" + mac);
        assertThat(head.header("content-length")).isEqualTo(get.header("content-length"))
                .isEqualTo(String.valueOf(get.body().length));
        awaitEvent(e -> e.mac().equals(mac) && e.step() == Step.SCRIPT);
        assertThat(eventsOf(mac)).hasSize(1);
    }

    static List<BootEvent> eventsOf(MacAddress mac) {
        return events.stream().filter(e -> e.mac().equals(mac)).toList();
    }

    @Test
    void scriptForAnUnknownMachineSaysSoAndExits() throws Exception {
        Curl.Result r = curl.get(base + "/boot.ipxe?mac=" + OTHER_MAC);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).contains("echo Pivot: no image assigned to MAC " + OTHER_MAC, "exit");
        assertThat(r.text()).doesNotContain("kernel ");
        BootEvent e = awaitEvent(x -> x.mac().equals(OTHER_MAC) && x.step() == Step.SCRIPT);
        assertThat(e.failed()).isTrue();
    }

    @Test
    void scriptWithoutMacChainsWithIpxeVariables() throws Exception {
        Curl.Result r = curl.get(base + "/boot.ipxe");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo(IpxeScript.chainWithMac(base));
        assertThat(r.text()).contains("/boot.ipxe?mac=${net0/mac}", "/boot.ipxe?mac=${mac}");
    }

    // ---- reports ----

    @Test
    void reportEmitsTheEvent() throws Exception {
        MacAddress mac = MacAddress.parse("52:54:00:aa:bb:12");
        String token = token(mac);
        Curl.Result r = curl.get(base + "/report?mac=" + mac + "&token=" + token + "&step=root_fetched&status=failed&detail=sha256%20mismatch%0Aon%20disk");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("ok\n");
        BootEvent e = awaitEvent(x -> x.mac().equals(mac) && x.step() == Step.ROOT_FETCHED);
        assertThat(e.failed()).isTrue();
        assertThat(e.detail()).isEqualTo("sha256 mismatch on disk");

        curl.get(base + "/report?mac=" + mac + "&token=" + token + "&step=handover&status=ok&detail="
                + "x".repeat(5000));
        BootEvent ok = awaitEvent(x -> x.mac().equals(mac) && x.step() == Step.HANDOVER);
        assertThat(ok.failed()).isFalse();
        assertThat(ok.detail().length()).isLessThanOrEqualTo(ReportEndpoint.MAX_DETAIL + 1);
    }

    @Test
    void reportsWithoutTheBootsSecretAreRefused() throws Exception {
        MacAddress mac = MacAddress.parse("52:54:00:aa:bb:17");
        MacAddress other = MacAddress.parse("52:54:00:aa:bb:18");
        String token = token(mac);
        String report = base + "/report?step=stage2&status=ok&mac=";
        Curl.Result missing = curl.get(report + mac);
        assertThat(missing.status()).isEqualTo(403);
        assertThat(missing.text()).isEqualTo("report refused: no per-boot secret for this MAC (token=)\n");
        char last = token.charAt(token.length() - 1);
        String wrong = token.substring(0, token.length() - 1) + (last == 'a' ? 'b' : 'a');
        assertThat(curl.get(report + mac + "&token=" + wrong).status()).isEqualTo(403);
        assertThat(curl.get(report + other + "&token=" + token).status()).as("another machine's secret")
                .isEqualTo(403);
        assertThat(curl.get(report + mac + "&token=" + token).status()).isEqualTo(200);
        // From the address DHCP gave the machine, no secret is needed (an image's own stage 2 may not know it).
        addresses.learn(InetAddress.getByName("127.0.0.1"), other);
        assertThat(curl.get(report + other).status()).isEqualTo(200);
        assertThat(curl.get(report + mac).status()).as("not from the address of " + mac).isEqualTo(403);
        awaitEvent(e -> e.mac().equals(other) && e.step() == Step.STAGE2);
        assertThat(events).filteredOn(e -> e.mac().equals(mac) && e.step() == Step.STAGE2).hasSize(1);
    }

    @Test
    void badReportsAre400WithOneLineReason() throws Exception {
        Curl.Result step = curl.get(base + "/report?mac=" + MAC + "&step=teleport&status=ok");
        assertThat(step.status()).isEqualTo(400);
        assertThat(step.text()).startsWith("unknown step 'teleport' (expected one of ").endsWith(")\n")
                .containsOnlyOnce("\n");
        Curl.Result mac = curl.get(base + "/report?mac=zz&step=stage1");
        assertThat(mac.status()).isEqualTo(400);
        assertThat(mac.text()).contains("not a MAC address");
        Curl.Result status = curl.get(base + "/report?mac=" + MAC + "&step=stage1&status=meh");
        assertThat(status.status()).isEqualTo(400);
        Curl.Result encoding = curl.get(base + "/report?mac=" + MAC + "&step=stage1&detail=%zz");
        assertThat(encoding.status()).isEqualTo(400);
        assertThat(encoding.text()).startsWith("bad query string '").contains("detail=%zz");
        Curl.Result missing = curl.get(base + "/report?step=stage1");
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.text()).isEqualTo("report without mac parameter\n");
    }

    // ---- iPXE binaries ----

    @Test
    void ipxeFilesAreServedAndConfined() throws Exception {
        Curl.Result r = curl.get(base + "/ipxe/ipxe.efi");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).isEqualTo("MZ fake efi");
        assertThat(r.header("content-length")).isEqualTo("11");

        assertThat(curl.get(base + "/ipxe/../secret.txt").status()).isIn(400, 404);
        assertThat(curl.get(base + "/ipxe/%2e%2e/secret.txt").status()).isIn(400, 404);
        assertThat(curl.get(base + "/ipxe/..%2fsecret.txt").status()).isIn(400, 404);
        assertThat(curl.get(base + "/ipxe/.hidden").status()).isEqualTo(400);
        assertThat(curl.get(base + "/ipxe/missing.efi").status()).isEqualTo(404);
    }

    /** shim loaded by HTTP asks for the next loader beside it as "/ipxe//grubx64.efi" (an empty segment). */
    @Test
    void shimsEmptySegmentNamesTheFileBesideItAndIs400Elsewhere() throws Exception {
        assertThat(rawGet("/ipxe//ipxe.efi")).startsWith("HTTP/1.1 200").endsWith("MZ fake efi");
        assertThat(rawGet("/ipxe///ipxe.efi")).startsWith("HTTP/1.1 400");
        assertThat(rawGet("/ipxe//../secret.txt")).matches("(?s)HTTP/1.1 40[04] .*");
        assertThat(rawGet("/artifacts//x")).startsWith("HTTP/1.1 400");
        assertThat(rawGet("/grub//grub.cfg")).startsWith("HTTP/1.1 400");
        assertThat(rawGet("/api/v1//health")).startsWith("HTTP/1.1 400");
    }

    /** A request line as written, which curl would normalise; the whole reply. */
    private static String rawGet(String path) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    // ---- robustness ----

    @Test
    void everyResponseHasContentLength() throws Exception {
        List<Curl.Result> all = List.of(
                curl.get(url(kernel)),
                curl.get(url(kernel), "-r", "0-9"),
                curl.get(url(kernel), "-r", "999999999-"),
                curl.get(url(kernel), "-H", "If-None-Match: \"" + kernel.sha256() + "\""),
                curl.get(url(kernel), "-I"),
                curl.get(base + "/artifacts/" + "1".repeat(64) + "/x"),
                curl.get(base + "/artifacts/short/x"),
                curl.get(base + "/boot.ipxe"),
                curl.get(base + "/boot.ipxe?mac=" + MAC),
                curl.get(base + "/boot.ipxe?mac=bad"),
                curl.get(base + "/report?mac=" + MAC + "&step=stage1"),
                curl.get(base + "/report"),
                curl.get(base + "/nowhere"),
                curl.get(base + "/boot.ipxe", "-X", "POST"),
                curl.get(base + "/ipxe/ipxe.efi"));
        for (Curl.Result r : all) {
            assertThat(r.header("content-length")).as("Content-Length of a %d reply", r.status()).isNotNull();
        }
        assertThat(all).extracting(Curl.Result::status)
                .containsExactly(200, 206, 416, 304, 200, 404, 404, 200, 200, 400, 403, 400, 404, 405, 200);
    }

    @Test
    void parallelDownloadsRunOnVirtualThreads() throws Exception {
        MacAddress mac = MacAddress.parse("52:54:00:aa:bb:11");
        List<Path> targets = new java.util.ArrayList<>();
        List<Process> running = new java.util.ArrayList<>();
        String tagged = tagged(url(root), mac);
        try {
            for (int i = 0; i < 8; i++) {
                Path out = dir.resolve("parallel-" + i);
                targets.add(out);
                running.add(new ProcessBuilder("curl", "-sS", "-o", out.toString(), tagged)
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
            }
            for (Process p : running) {
                assertThat(p.waitFor()).isZero();
            }
        } finally {
            running.forEach(Process::destroyForcibly);
        }
        for (Path out : targets) {
            assertThat(TestFiles.sha256(out)).isEqualTo(root.sha256());
        }
        for (int i = 0; i < targets.size(); i++) {
            awaitEvent(e -> e.mac().equals(mac) && e.step() == Step.ROOT_IMAGE && !e.failed());
        }
        assertThat(events).filteredOn(e -> e.mac().equals(mac) && e.step() == Step.ROOT_IMAGE).hasSize(targets.size())
                .allMatch(e -> e.bytes() == root.size());
        assertThat(emittedOnVirtualThread).isNotEmpty().containsOnly(true);
    }

    @Test
    void jettysOwnErrorRepliesHaveContentLengthToo() throws Exception {
        Curl.Result r = curl.get(base + "/boot.ipxe", "-H", "Host: a b");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.header("content-length")).isEqualTo(String.valueOf(r.body().length));
    }

    @Test
    void garbageDoesNotStopTheServer() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            OutputStream out = s.getOutputStream();
            out.write("\u0000\u0001 NOT HTTP AT ALL\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            s.getInputStream().readAllBytes(); // Jetty answers 400 and closes
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
            s.getOutputStream().write("GET /artifacts/".getBytes(StandardCharsets.US_ASCII)); // and hang up mid-request
        }
        assertThat(curl.get(url(prelude)).status()).isEqualTo(200);
    }

    @Test
    void bindFailureNamesAddressAndPort() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            PivotHttpServer second = new PivotHttpServer(new HttpConfig(InetAddress.getLoopbackAddress(),
                    taken.getLocalPort()), mac -> Optional.empty(), artifacts, new AddressBook(), e -> { });
            assertThatThrownBy(second::start).isInstanceOf(IOException.class)
                    .hasMessage("cannot listen on 127.0.0.1:" + taken.getLocalPort() + ": Address already in use");
            second.close();
        }
    }

    /** The kernel's listen queue, as ss shows it (Send-Q of a listening socket is its backlog). */
    @Test
    void listenQueueHoldsABootStormNotTheJdkDefaultOf50() throws Exception {
        Process ss = new ProcessBuilder("ss", "-Hltn", "sport = :" + server.port()).redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(ss.waitFor()).as("ss output: %s", out).isZero();
        // readAllLines, not readString: /proc files claim a size that readString trusts and stops at.
        int somaxconn = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/core/somaxconn")).getFirst().strip());
        // LISTEN  Recv-Q  Send-Q  Local  Peer
        assertThat(Integer.parseInt(out.split("\\s+")[2])).as("backlog in: %s", out)
                .isEqualTo(Math.min(PivotHttpServer.ACCEPT_QUEUE, somaxconn));
    }
}
