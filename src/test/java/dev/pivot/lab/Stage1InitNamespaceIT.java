package dev.pivot.lab;

import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.NetNamespace;
import dev.pivot.demo.ServeProcess;
import dev.pivot.format.Compression;
import dev.pivot.format.cpio.CpioEntry;
import dev.pivot.format.cpio.CpioReader;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestFiles;
import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real stage-1 init (the prelude `pivot serve` builds and serves, busybox and all) without a VM: the test
 * fetches the iPXE script, the initrds and the kernel command line from a real `pivot serve` in a lab namespace,
 * unpacks the initrds into a directory as the kernel would, and runs /pivot/init there as PID 1 of a new PID
 * namespace, in a mount namespace of its own (a fake /proc/cmdline, and /proc/meminfo for the RAM check) and a
 * network namespace joined to the server by a veth. `poweroff -f` then ends that PID namespace only. Each test
 * asserts what the console shows and what the server's timeline shows.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class Stage1InitNamespaceIT {
    private static final Duration LIMIT = Duration.ofSeconds(90);
    /** Incompressible, so a throttled fetch takes long enough to be cut in the middle. */
    private static final int ROOT_PAYLOAD_MIB = 16;
    private static final String SYSTEM = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-s1ns";
    private static final String IMAGE_MARKER = "IMAGE-STAGE1:";
    private static final Pattern ROOT_SHA = Pattern.compile("pivot: root image \\S+, (\\d+) bytes, sha256 ([0-9a-f]{64})");
    private static final AtomicInteger CLIENTS = new AtomicInteger();

    @TempDir
    static Path shared;

    private static LabNetwork lab;
    private static Path state;
    private static Path image;
    private static volatile ServeProcess server;
    private static final List<String> serverLines = new CopyOnWriteArrayList<>();
    private static String rootSha;
    private static long rootSize;

    @BeforeAll
    static void serve() throws Exception {
        Require.root("network, mount and PID namespaces");
        for (String tool : List.of("ip", "busybox", "mksquashfs", "cpio", "gzip", "curl", "nft", "script", "unshare",
                "chroot")) {
            Require.command(tool);
        }
        Require.packagedCli();
        image = image(shared);
        state = Files.createDirectories(shared.resolve("state"));
        lab = LabNetwork.create("s1ns");
        startServer();
        Matcher m = ROOT_SHA.matcher(awaitServerLine(l -> ROOT_SHA.matcher(l).find()));
        assertThat(m.find()).isTrue();
        rootSize = Long.parseLong(m.group(1));
        rootSha = m.group(2);
    }

    @AfterAll
    static void close() {
        if (lab != null) {
            lab.close();
        }
    }

    private static void startServer() {
        server = ServeProcess.start(lab, Require.pivotRoot(), image, "full", state, List.of("--skip-check"), line -> {
            serverLines.add(line);
            System.out.println("serve | " + line);
        });
    }

    // ---- the tests ------------------------------------------------------------------------------------------

    @Test
    void fetchesChecksReportsAndHandsOverToTheImagesInit() throws Exception {
        try (Client c = new Client()) {
            Run run = c.boot(UnaryOperator.identity(), null);
            run.awaitConsole(IMAGE_MARKER);
            assertThat(run.awaitExit()).as("the image's init ran and exited 0").isZero();
            String console = run.console();
            assertThat(console).contains("pivot: stage 1 prelude at ")
                    .containsPattern("pivot: interface eth0 \\(" + c.mac + "\\)( at [0-9.]+s)?, modules: none")
                    .containsPattern("pivot: eth0 has 10\\.77\\.0\\.1\\d\\d/24")
                    .contains("pivot: fetching root image, ")
                    .contains("pivot: root image " + rootSize + " bytes in ").contains(", sha256 ok")
                    .contains(IMAGE_MARKER + " /nix-store.squashfs " + rootSize + " bytes, sha256 " + rootSha
                            + ", init=" + SYSTEM + "/init")
                    .doesNotContain("pivot: FAILED").doesNotContain("not delivered");
            c.awaitTimeline("stage1", "prelude started at ");
            c.awaitTimeline("network", "eth0 10.77.0.1");
            c.awaitTimeline("root_image", "nix-store.squashfs");
            c.awaitTimeline("root_fetched", rootSize + " bytes in ");
            assertThat(c.timeline("root_fetched")).anySatisfy(l -> assertThat(l).contains("sha256 ok"));
            c.awaitTimeline("handover", "exec /init at ");
            assertThat(serverLines).noneMatch(l -> l.contains(c.mac) && l.contains("FAILED"));
        }
    }

    /**
     * key=value words, the last of a name wins, a "double-quoted" value loses its quotes, a trailing slash on
     * pivot.url goes, the MAC is lower-cased, and names that merely contain a parameter's name do not count.
     */
    @Test
    void readsTheKernelCommandLineAsTheKernelWritesIt() throws Exception {
        try (Client c = new Client()) {
            Run run = c.boot(cmdline -> {
                String url = word(cmdline, "pivot.url");
                String root = word(cmdline, "pivot.root");
                return "pivot.url=http://10.77.0.1:9/nothing-listens-here xpivot.root=http://10.77.0.1:9/x "
                        + cmdline.replace("pivot.mac=" + c.mac, "pivot.mac=" + c.mac.toUpperCase())
                        .replace("pivot.root=" + root, "pivot.root=\"" + root + "\"")
                        .replace("pivot.url=" + url, "pivot.url=" + url + "/")
                        + " pivot.urlx=http://10.77.0.1:9/ pivot.shellfish";
            }, null);
            run.awaitConsole(IMAGE_MARKER);
            assertThat(run.awaitExit()).isZero();
            assertThat(run.console()).contains("pivot: interface eth0 (" + c.mac + ")").contains("sha256 ok")
                    .doesNotContain("pivot: FAILED").doesNotContain("not delivered");
            // The reports reached the server under the lower-case MAC: the URL and MAC were read right.
            c.awaitTimeline("stage1", "prelude started at ");
            c.awaitTimeline("handover", "exec /init at ");
        }
    }

    /** A root image whose bytes went bad on the server's disk: one FAILED line, reported, no handover, power off. */
    @Test
    void aRootImageWithTheWrongSha256StopsTheBootAndPowersOff() throws Exception {
        Path object = state.resolve("artifacts/objects").resolve(rootSha);
        try (Client c = new Client()) {
            TestFiles.flipMiddleByte(object);
            Run run;
            try {
                run = c.boot(UnaryOperator.identity(), null);
                run.awaitConsole("pivot: FAILED at");
                c.awaitTimeline("root_fetched", "FAILED: sha256 mismatch");
            } finally {
                TestFiles.flipMiddleByte(object); // back as it was, for the other tests
            }
            long t0 = System.nanoTime();
            Integer exit = run.awaitExit();
            System.out.printf("Stage1InitNamespaceIT: powered off %.1f s after the failure%n",
                    (System.nanoTime() - t0) / 1e9);
            assertThat(exit).as("poweroff -f ends the PID namespace (its init killed by SIGINT: 128+2)")
                    .isEqualTo(130);
            assertThat(failedLines(run.console())).singleElement().asString()
                    .startsWith("pivot: FAILED at root_fetched: sha256 mismatch: the root image (" + rootSize
                            + " bytes) has ")
                    .endsWith(", the server announced " + rootSha);
            assertThat(run.console()).doesNotContain(IMAGE_MARKER).doesNotContain("pivot.shell is set");
            assertThat(c.timeline("handover")).isEmpty();
        }
    }

    /** MemAvailable too small for the root image + 64 MiB: the boot stops before fetching, and pivot.shell opens a shell. */
    @Test
    void tooLittleRamStopsBeforeTheFetchAndPivotShellOpensAShell() throws Exception {
        try (Client c = new Client()) {
            long availableKb = rootSize / 1024 + 65536 - 4096;
            Path meminfo = shared.resolve("meminfo-" + c.n);
            Files.writeString(meminfo, Files.readString(Path.of("/proc/meminfo"))
                    .replaceAll("(?m)^MemAvailable:.*$", "MemAvailable:   " + availableKb + " kB"));
            Run run = c.boot(cmdline -> cmdline + " pivot.shell", meminfo);
            run.awaitConsole("pivot: pivot.shell is set: here is a shell (exit to power off)");
            run.type("echo \"shell-says-$((6*7)) $([ -e /nix-store.squashfs ] && echo fetched || echo not-fetched)\"; exit\n");
            run.awaitConsole("shell-says-42 not-fetched");
            assertThat(run.awaitExit()).as("powered off after the shell").isEqualTo(130);
            assertThat(failedLines(run.console())).singleElement().asString().isEqualTo(
                    "pivot: FAILED at root_fetched: not enough RAM for the root image: it is "
                            + (rootSize + 524288) / 1048576 + " MiB (+64 MiB headroom), MemAvailable is "
                            + availableKb / 1024 + " MiB");
            assertThat(run.console()).doesNotContain("pivot: fetch").doesNotContain(IMAGE_MARKER);
            c.awaitTimeline("root_fetched", "FAILED: not enough RAM for the root image");
            assertThat(c.timeline("root_image")).as("no fetch started").isEmpty();
        }
    }

    /** Without pivot.url there is nowhere to report: the console says so and the server never hears of stage 1. */
    @Test
    void noPivotUrlFailsOnTheConsoleOnly() throws Exception {
        try (Client c = new Client()) {
            Run run = c.boot(cmdline -> cmdline.replace("pivot.url=" + word(cmdline, "pivot.url"), ""), null);
            run.awaitConsole("pivot: FAILED at");
            assertThat(run.awaitExit()).isEqualTo(130);
            assertThat(failedLines(run.console())).singleElement().asString()
                    .isEqualTo("pivot: FAILED at stage1: no pivot.url on the kernel command line");
            assertThat(run.console()).doesNotContain("has 10.77.0.");
            assertThat(c.timeline("stage1")).isEmpty();
            assertThat(c.timeline("network")).isEmpty();
        }
    }

    /** A root URL the server does not have: pivot.fetch_tries attempts, then one FAILED line at the server too. */
    @Test
    void aRootImageThatCannotBeFetchedFailsAfterTheTriesItWasGiven() throws Exception {
        try (Client c = new Client()) {
            Run run = c.boot(cmdline -> cmdline.replace(rootSha + "/", "0".repeat(64) + "/")
                    .replace("pivot.sha256=" + rootSha, "pivot.sha256=" + "0".repeat(64))
                    + " pivot.fetch_tries=2 pivot.shell", null);
            run.awaitConsole("pivot: pivot.shell is set");
            run.type("exit\n");
            assertThat(run.awaitExit()).isEqualTo(130);
            assertThat(run.console()).contains("(try 1 of 2: ").contains("(try 2 of 2: ");
            assertThat(failedLines(run.console())).singleElement().asString()
                    .startsWith("pivot: FAILED at root_fetched: cannot fetch http://10.77.0.1/artifacts/"
                            + "0".repeat(64) + "/nix-store.squashfs?mac=" + c.mac + " after 2 tries");
            c.awaitTimeline("root_fetched", "FAILED: cannot fetch ");
        }
    }

    /**
     * The server goes away in the middle of the fetch (throttled so the cut lands there) and comes back: stage 1
     * resumes where it stopped with a Range request, checks the sha256 and hands over.
     */
    @Test
    void aFetchCutByAServerRestartResumesWithARangeRequest() throws Exception {
        NetNamespace ns = lab.namespace();
        try (Client c = new Client()) {
            throttle(ns);
            Run run;
            try {
                run = c.boot(UnaryOperator.identity(), null);
                Matcher progress = Pattern.compile("pivot: fetch (\\d+)/(\\d+) MiB \\((\\d+)%\\)")
                        .matcher(run.awaitConsole("pivot: fetch "));
                assertThat(progress.find()).isTrue();
                assertThat(Integer.parseInt(progress.group(3))).as("still fetching when the server stops")
                        .isLessThan(100);
                ProcessHandle.of(server.pid()).ifPresent(ProcessHandle::destroy);
                ProcessHandle.of(server.pid()).ifPresent(p -> p.onExit().join());
                System.out.println("Stage1InitNamespaceIT: pivot serve stopped in the middle of the fetch");
                startServer();
            } finally {
                ns.exec("nft", "delete", "table", "inet", "pivots1ns");
            }
            run.awaitConsole(IMAGE_MARKER);
            assertThat(run.awaitExit()).isZero();
            assertThat(run.console()).contains("(try 1 of 12: ").contains("; resuming").contains("sha256 ok")
                    .contains(IMAGE_MARKER + " /nix-store.squashfs " + rootSize + " bytes, sha256 " + rootSha)
                    .doesNotContain("pivot: FAILED");
            // The second server sent only the rest: a Range answer ("bytes N-M/TOTAL"), not the whole image.
            Pattern range = Pattern.compile("bytes [1-9]\\d*-" + (rootSize - 1) + "/" + rootSize);
            awaitServerLine(l -> l.contains(c.mac) && l.contains(" root_image ") && range.matcher(l).find());
            c.awaitTimeline("handover", "exec /init at ");
        }
    }

    /**
     * The server stops sending in the middle of the fetch without closing the connection (every packet from port 80
     * dropped): after pivot.fetch_stall seconds without a byte, stage 1 ends that transfer and resumes it.
     */
    @Test
    void aStalledFetchIsRestartedAfterPivotFetchStallSeconds() throws Exception {
        NetNamespace ns = lab.namespace();
        try (Client c = new Client()) {
            throttle(ns);
            Run run;
            try {
                run = c.boot(cmdline -> cmdline + " pivot.fetch_stall=3", null);
                run.awaitConsole("pivot: fetch ");
                ns.exec("nft", "insert", "rule", "inet", "pivots1ns", "out", "tcp", "sport", "80", "drop");
                run.awaitConsole("pivot: no data for 3s at ");
            } finally {
                ns.exec("nft", "delete", "table", "inet", "pivots1ns");
            }
            run.awaitConsole(IMAGE_MARKER);
            assertThat(run.awaitExit()).isZero();
            assertThat(run.console()).containsPattern("pivot: no data for 3s at \\d+ MiB: restarting the transfer")
                    .contains("(try 1 of 12: ").contains("sha256 ok").doesNotContain("pivot: FAILED");
            Pattern range = Pattern.compile("bytes [1-9]\\d*-" + (rootSize - 1) + "/" + rootSize);
            awaitServerLine(l -> l.contains(c.mac) && l.contains(" root_image ") && range.matcher(l).find());
            c.awaitTimeline("root_fetched", "sha256 ok");
        }
    }

    /** About 2 MB/s from the server's port 80 (nftables drops what is over), so a 16 MiB fetch takes seconds. */
    private static void throttle(NetNamespace ns) {
        ns.exec("nft", "add", "table", "inet", "pivots1ns");
        ns.exec("nft", "add", "chain", "inet", "pivots1ns", "out", "{", "type", "filter", "hook", "output",
                "priority", "0", ";", "}");
        ns.exec("nft", "add", "rule", "inet", "pivots1ns", "out", "tcp", "sport", "80", "limit", "rate",
                "over", "2", "mbytes/second", "drop");
    }

    // ---- a client: its own network namespace, a veth to the lab bridge, the initrds unpacked ---------------

    private static final class Client implements AutoCloseable {
        final int n = CLIENTS.incrementAndGet();
        final String mac = String.format("52:54:00:77:03:%02x", n);
        final NetNamespace ns = NetNamespace.create("s1c");
        final Path root;

        Client() throws IOException {
            try {
                lab.namespace().addVethTo("c" + n, ns, "eth0");
                lab.namespace().attach("c" + n, LabNetwork.BRIDGE);
                ns.ip("link", "set", "eth0", "address", mac);
                root = Files.createDirectories(shared.resolve("client-" + n));
            } catch (RuntimeException e) {
                ns.close();
                throw e;
            }
        }

        /**
         * Does what iPXE does (the per-machine script, then each initrd, unpacked in order as the kernel does)
         * and starts /pivot/init with the script's kernel command line, after {@code edit}.
         */
        Run boot(UnaryOperator<String> edit, Path meminfo) throws IOException, URISyntaxException {
            String script = lab.namespace().exec("curl", "-sSf", "--max-time", "30",
                    "http://" + LabNetwork.SERVER_ADDRESS + "/boot.ipxe?mac=" + mac);
            String cmdline = null;
            List<String> initrds = new ArrayList<>();
            for (String line : script.lines().toList()) {
                String command = line.replaceFirst("\\s*\\|\\|.*$", "");
                List<String> words = List.of(command.trim().split("\\s+"));
                if (words.getFirst().equals("kernel")) {
                    cmdline = String.join(" ", words.subList(2, words.size()));
                } else if (words.getFirst().equals("initrd")) {
                    initrds.add(words.getLast());
                }
            }
            assertThat(cmdline).as("a kernel line in\n" + script).isNotNull();
            assertThat(initrds).as("initrds in\n" + script).isNotEmpty();
            for (int i = 0; i < initrds.size(); i++) {
                Path file = shared.resolve("client-" + n + "-initrd-" + i);
                lab.namespace().exec("curl", "-sSf", "--max-time", "60", "-o", file.toString(), initrds.get(i));
                unpack(file, root);
            }
            Path cmdlineFile = shared.resolve("cmdline-" + n);
            String edited = edit.apply(cmdline).trim();
            Files.writeString(cmdlineFile, edited + "\n");
            System.out.println("Stage1InitNamespaceIT: /proc/cmdline: " + edited);
            Path runner = Path.of(Stage1InitNamespaceIT.class.getResource("init-in-namespaces.sh").toURI());
            String inner = "exec unshare --pid --fork --kill-child --mount --propagation private sh " + runner + " "
                    + root + " " + cmdlineFile + (meminfo == null ? "" : " " + meminfo);
            Process p = ns.startWithStdin(List.of("script", "-qfec", inner, "/dev/null"));
            return new Run(p, "client " + n);
        }

        /** The server's timeline lines of this machine for {@code step}. */
        List<String> timeline(String step) {
            return serverLines.stream().filter(l -> l.contains(mac) && l.contains(" " + step + " ")).toList();
        }

        void awaitTimeline(String step, String detail) {
            awaitServerLine(l -> l.contains(mac) && l.contains(" " + step + " ") && l.contains(detail));
        }

        @Override
        public void close() {
            ns.close();
            deleteTree(root);
        }
    }

    /** The init's console (a pty, as a serial console would be) and its exit. */
    private static final class Run {
        private final Process process;
        private final StringBuffer console = new StringBuffer();
        private final OutputStream keyboard;
        private final Thread reader;

        Run(Process process, String name) {
            this.process = process;
            this.keyboard = process.getOutputStream();
            this.reader = Thread.ofVirtual().name("console-" + name).start(() -> {
                try (InputStream in = process.getInputStream()) {
                    byte[] b = new byte[4096];
                    for (int k; (k = in.read(b)) > 0; ) {
                        String s = new String(b, 0, k, StandardCharsets.UTF_8).replace("\r", "");
                        console.append(s);
                        System.out.print(s.replaceAll("(?m)^", name + " | "));
                    }
                } catch (IOException ignored) {
                    // the run ended
                }
            });
        }

        String console() {
            return console.toString();
        }

        /** Waits until the console shows {@code text}; returns the console from the line that has it. */
        String awaitConsole(String text) throws InterruptedException {
            long until = System.nanoTime() + LIMIT.toNanos();
            while (System.nanoTime() < until) {
                String now = console();
                int at = now.indexOf(text);
                if (at >= 0) {
                    return now.substring(now.lastIndexOf('\n', at) + 1);
                }
                if (!process.isAlive()) {
                    reader.join(Duration.ofSeconds(5)); // the console's last bytes
                    if (console().contains(text)) {
                        continue;
                    }
                    throw new AssertionError("the init ended (exit " + process.exitValue() + ") without showing '"
                            + text + "':\n" + console());
                }
                Thread.sleep(100);
            }
            throw new AssertionError("the console never showed '" + text + "':\n" + console());
        }

        void type(String keys) throws IOException {
            keyboard.write(keys.getBytes(StandardCharsets.UTF_8));
            keyboard.flush();
        }

        /** The exit code of the run: 0 when the image's init ended, 130 when stage 1 powered off. */
        Integer awaitExit() throws InterruptedException {
            assertThat(process.waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS))
                    .as("the init ended within " + LIMIT + ":\n" + console()).isTrue();
            reader.join(Duration.ofSeconds(5)); // the console's last bytes
            return process.exitValue();
        }
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    /** The value of the last NAME=VALUE word of a command line. */
    private static String word(String cmdline, String name) {
        String value = null;
        for (String w : cmdline.split(" ")) {
            if (w.startsWith(name + "=")) {
                value = w.substring(name.length() + 1);
            }
        }
        assertThat(value).as(name + " in " + cmdline).isNotNull();
        return value;
    }

    private static List<String> failedLines(String console) {
        return console.lines().filter(l -> l.contains("pivot: FAILED at")).toList();
    }

    private static String awaitServerLine(Predicate<String> match) {
        long until = System.nanoTime() + LIMIT.toNanos();
        while (System.nanoTime() < until) {
            for (String l : serverLines) {
                if (match.test(l)) {
                    return l;
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new AssertionError("no such line in the serve output:\n" + String.join("\n", serverLines));
    }

    /** Unpacks a (compressed) initrd of concatenated newc archives into {@code root}, as the kernel does. */
    private static void unpack(Path initrd, Path root) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(initrd)) {
            head = in.readNBytes(Compression.MAGIC_LENGTH);
        }
        Compression compression = Compression.detect(head).orElseThrow(
                () -> new AssertionError(initrd + ": not a compressed cpio"));
        try (InputStream in = compression.open(new BufferedInputStream(Files.newInputStream(initrd)));
             CpioReader cpio = CpioReader.allArchives(in, initrd.toString())) {
            for (CpioEntry e; (e = cpio.next()) != null; ) {
                String path = e.path();
                if (path.isEmpty() || path.equals(".")) {
                    continue;
                }
                Path to = root.resolve(path).normalize();
                assertThat(to.startsWith(root)).as(path).isTrue();
                if (e.isDirectory()) {
                    Files.createDirectories(to);
                } else if (e.isSymlink()) {
                    Files.deleteIfExists(to);
                    Files.createSymbolicLink(to, Path.of(new String(cpio.body().readAllBytes(),
                            StandardCharsets.UTF_8)));
                } else if (e.isRegularFile()) {
                    Files.createDirectories(to.getParent());
                    try (OutputStream out = Files.newOutputStream(to)) {
                        cpio.body().transferTo(out);
                    }
                    Files.setPosixFilePermissions(to, PosixFilePermissions.fromString(
                            (e.permissions() & 0100) != 0 ? "rwxr-xr-x" : "rw-r--r--"));
                }
                // Device nodes (the prelude's dev/console): the test's /dev is a tmpfs with its own console.
            }
        }
    }

    /**
     * A NixOS-shaped image: a stage-1 initrd whose /init (busybox, as NixOS's own stage 1 is a script) says
     * what it was handed, the store squashfs (with incompressible bytes) as the initrd's second part, and
     * netboot.ipxe. The kernel is not a real one: `pivot serve --skip-check`.
     */
    private static Path image(Path work) throws IOException, InterruptedException {
        Path dir = Files.createDirectories(work.resolve("image"));
        Path build = Files.createDirectories(work.resolve("image-build"));
        Files.writeString(dir.resolve("bzImage"), "not a kernel\n");
        Path stage1 = Files.createDirectories(build.resolve("stage1/bin"));
        Files.copy(Path.of("/bin/busybox"), stage1.resolve("busybox"));
        Path init = build.resolve("stage1/init");
        Files.writeString(init, """
                #!/bin/busybox sh
                bb=/bin/busybox
                f=/nix-store.squashfs
                echo "%s $f $($bb stat -c %%s $f) bytes, sha256 $($bb sha256sum $f | $bb cut -d' ' -f1),\
                 $($bb tr ' ' '\\n' < /proc/cmdline | $bb grep '^init=')"
                """.formatted(IMAGE_MARKER));
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path system = Files.createDirectories(build.resolve("store" + SYSTEM));
        Files.writeString(system.resolve("init"), "#!/bin/sh\necho stage 2\n");
        Files.setPosixFilePermissions(system.resolve("init"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Tools.sh(build, "head -c " + (ROOT_PAYLOAD_MIB << 20) + " /dev/urandom > " + system.resolve("payload")
                + " && mksquashfs store/nix/store nix-store.squashfs -quiet -noappend -comp gzip >/dev/null"
                + " && (cd stage1 && find . | cpio -o -H newc --quiet | gzip -1) > initrd"
                + " && echo nix-store.squashfs | cpio -o -H newc --quiet | gzip -1 >> initrd");
        Files.copy(build.resolve("initrd"), dir.resolve("initrd"));
        Files.writeString(dir.resolve("netboot.ipxe"), """
                #!ipxe
                kernel bzImage init=%s/init initrd=initrd loglevel=4 ${cmdline}
                initrd initrd
                boot
                """.formatted(SYSTEM));
        return dir;
    }

    private static void deleteTree(Path dir) {
        // The mounts were made in the init's own mount namespace: here the tree holds only plain files.
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a leftover temp file is harmless; @TempDir removes the rest
        }
    }
}
