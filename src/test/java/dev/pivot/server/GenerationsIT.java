package dev.pivot.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pivot.boot.GenerationPolicy;
import dev.pivot.cli.Main;
import dev.pivot.demo.DemoImage;
import dev.pivot.store.PostgresCluster;
import dev.pivot.testsupport.CliRun;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestFiles;
import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `pivot serve ./result` (PivotServer as shipped, on loopback) follows the result link as `nix build` replaces it:
 * each new build becomes the profile's next generation without a restart; a broken build (no init=, a truncated
 * squashfs) is refused with one line and the previous generation stays the default; old generations are pruned by
 * count but never one a machine is assigned to; generations and the rollback survive a restart. The builds are
 * real demo images (Debian's kernel), so the image check runs as it does for an operator.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class GenerationsIT {

    private static final Duration IMPORT_LIMIT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PINNED_MAC = "52:54:00:77:18:01";
    private static final String OTHER_MAC = "52:54:00:77:18:02";
    private static final Pattern ROOT_SHA = Pattern.compile("pivot\\.sha256=([0-9a-f]{64})");

    @TempDir
    static Path work;
    private static Path[] builds;
    private static Path noInit;
    private static Path truncatedSquashfs;

    @BeforeAll
    static void buildImages() throws Exception {
        Path root = Require.pivotRoot();
        Tools.require("zstd", "zstd");
        builds = new Path[5];
        for (int i = 1; i <= 4; i++) {
            builds[i] = DemoImage.build(root, work.resolve("build-" + i), "--marker", "gen-" + i,
                    "--parts", work.resolve("parts-" + i).toString());
        }
        // No init= on the kernel line: NixOS's netboot.ipxe always has one.
        noInit = Files.createDirectories(work.resolve("broken-no-init"));
        for (String f : List.of("bzImage", "initrd")) {
            Files.copy(builds[1].resolve(f), noInit.resolve(f));
        }
        Files.writeString(noInit.resolve("netboot.ipxe"), Files.readString(builds[1].resolve("netboot.ipxe"))
                .replaceAll("init=\\S+ ", ""));
        // The squashfs cut in half, packed as NixOS packs it (stage 1, then a zstd cpio with the squashfs).
        truncatedSquashfs = Files.createDirectories(work.resolve("broken-truncated"));
        Files.copy(builds[1].resolve("bzImage"), truncatedSquashfs.resolve("bzImage"));
        Files.copy(builds[1].resolve("netboot.ipxe"), truncatedSquashfs.resolve("netboot.ipxe"));
        Path parts = work.resolve("parts-1");
        Tools.sh(work, "mkdir -p cut && head -c $(( $(stat -c %s " + parts.resolve("nix-store.squashfs")
                + ") / 2 )) " + parts.resolve("nix-store.squashfs") + " > cut/nix-store.squashfs"
                + " && (cd cut && echo nix-store.squashfs | cpio -o -H newc --quiet | zstd -q) > cut.cpio.zst"
                + " && cat " + parts.resolve("stage1.cpio.gz") + " cut.cpio.zst > " + truncatedSquashfs.resolve("initrd"));
    }

    @Test
    void newBuildsBecomeGenerationsBrokenOnesAreRefusedOldOnesPrunedAndAllSurviveARestart() throws Exception {
        Path result = work.resolve("result");
        TestFiles.relink(result, builds[1]);
        Path state = work.resolve("state");
        StringWriter said = new StringWriter();
        String rootSha1 = TestFiles.sha256(work.resolve("parts-1/nix-store.squashfs"));
        String rootSha3 = TestFiles.sha256(work.resolve("parts-3/nix-store.squashfs"));

        try (PivotServer server = start(result, state, said)) {
            String base = "http://127.0.0.1:" + server.httpPort();
            String token = Files.readString(server.config().tokenFile()).strip();
            assertThat(defaultOf(base)).isEqualTo(1);
            send(base, token, "PUT", "/api/v1/machines/" + PINNED_MAC + "/assignment",
                    "{\"profile\": \"default\", \"generation\": 1}");

            // Broken builds dropped into result: one line each, generation 1 stays the default.
            TestFiles.relink(result, noInit);
            await(() -> said.toString().contains("refusing the new build in " + result), "the no-init= refusal", said);
            TestFiles.relink(result, truncatedSquashfs);
            await(() -> refusals(said) == 2, "the truncated squashfs refusal", said);
            List<String> refused = said.toString().lines().filter(l -> l.contains("refusing the new build")).toList();
            refused.forEach(l -> System.out.println("GenerationsIT: refused: " + l));
            assertThat(refused.getFirst()).contains("init=").endsWith("generation 1 stays the default");
            assertThat(refused.get(1)).contains("truncated").endsWith("generation 1 stays the default");
            assertThat(generations(base)).containsExactly(1);
            assertThat(script(base, OTHER_MAC)).contains("pivot.sha256=" + rootSha1);

            // Three good builds: generations 2, 3, 4; --keep-generations 2 prunes 2 but keeps 1, which is assigned.
            for (int i = 2; i <= 4; i++) {
                TestFiles.relink(result, builds[i]);
                int n = i;
                await(() -> defaultOf(base) == n, "generation " + n, said);
            }
            assertThat(generations(base)).containsExactly(4, 3, 1);
            assertThat(said.toString()).contains("pivot: profile default: generation 4");

            String menu = script(base, OTHER_MAC);
            assertThat(menu).contains("item --key 4 gen_4 NixOS 24.11 (Generation 4, built")
                    .contains("item --key 1 gen_1 NixOS 24.11 (Generation 1").contains("--default gen_4");
            assertThat(script(base, PINNED_MAC)).as("the assigned machine's default").contains("--default gen_1");
            Matcher chosen = ROOT_SHA.matcher(get(base, "/boot.ipxe?mac=" + OTHER_MAC + "&generation=3"));
            assertThat(chosen.find()).isTrue();
            assertThat(chosen.group(1)).isEqualTo(rootSha3);

            CliRun rollback = CliRun.of(Main.commandLine(), "rollback", "default", "--to", "3",
                    "--server", base, "--token-file", server.config().tokenFile().toString());
            assertThat(rollback.exit()).as(rollback.err()).isZero();
            assertThat(rollback.out()).contains("generation 3 is the default");
        }

        // A restart keeps generations and the rollback; the build in result now is generation 4 already.
        try (PivotServer server = start(result, state, said)) {
            String base = "http://127.0.0.1:" + server.httpPort();
            assertThat(generations(base)).containsExactly(4, 3, 1);
            assertThat(defaultOf(base)).isEqualTo(3);
            CliRun listed = CliRun.of(Main.commandLine(), "generations", "--server", base,
                    "--token-file", server.config().tokenFile().toString());
            assertThat(listed.exit()).as(listed.err()).isZero();
            assertThat(listed.out()).containsPattern("default\\s+3\\s+default \\(rolled back\\)\\s+24\\.11");
            System.out.println("GenerationsIT: pivot generations after the restart:\n" + listed.out());
        }

        // A restart with a broken build in result serves the stored default, and says so in one line.
        TestFiles.relink(result, noInit);
        StringWriter again = new StringWriter();
        try (PivotServer server = start(result, state, again)) {
            String base = "http://127.0.0.1:" + server.httpPort();
            assertThat(server.served()).isEmpty();
            assertThat(again.toString()).contains("pivot: profile default: not serving the build in " + result
                    + " (above); generation 3, stored before, stays the default");
            assertThat(defaultOf(base)).isEqualTo(3);
            assertThat(script(base, OTHER_MAC)).contains("--default gen_3");
            assertThat(get(base, "/boot.ipxe?mac=" + OTHER_MAC + "&generation=3")).contains("pivot.sha256=" + rootSha3);
        }
    }

    /**
     * Two servers on one PostgreSQL following the same result link (as two machines would follow one build share),
     * started at once: each new build is one generation both serve, though both import it; a rollback through one
     * server's API is the other's default within seconds.
     */
    @Test
    void twoServersOnOneDatabaseServeTheSameGenerationsAndRollback() throws Exception {
        try (SharedDatabase s = SharedDatabase.start("shared-result")) {
            // Started together: both find no generation stored and both record their build as generation 1.
            var startingB = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return start(s.result(), work.resolve("state-b"), s.saidB(), s.db(), "beta");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (PivotServer a = start(s.result(), work.resolve("state-a"), s.saidA(), s.db(), "alpha");
                 PivotServer b = startingB.get(120, TimeUnit.SECONDS)) {
                String baseA = "http://127.0.0.1:" + a.httpPort(), baseB = "http://127.0.0.1:" + b.httpPort();
                assertThat(generations(baseA)).containsExactly(1);
                assertThat(generations(baseB)).containsExactly(1);

                TestFiles.relink(s.result(), builds[2]);
                await(() -> defaultOf(baseA) == 2 && defaultOf(baseB) == 2, "generation 2 on both", s.saidA());
                assertThat(generations(baseA)).containsExactly(2, 1);
                assertThat(generations(baseB)).containsExactly(2, 1);
                assertThat(s.pg().psql("SELECT count(*) FROM profile_generation").strip()).isEqualTo("2");
                String both = s.saidA() + "\n" + s.saidB();
                both.lines().filter(l -> l.contains("profile default")).forEach(l ->
                        System.out.println("GenerationsIT: two servers: " + l));
                assertThat(both).doesNotContain("refusing").doesNotContain("cannot store");

                CliRun rollback = CliRun.of(Main.commandLine(), "rollback", "default", "--server", baseA,
                        "--token-file", a.config().tokenFile().toString());
                assertThat(rollback.exit()).as(rollback.err()).isZero();
                long rolledBack = System.nanoTime();
                await(() -> defaultOf(baseB) == 1, "the rollback through alpha on beta", s.saidB());
                System.out.printf("GenerationsIT: a rollback through alpha was beta's default %.1f s later%n",
                        (System.nanoTime() - rolledBack) / 1e9);
                assertThat(script(baseB, OTHER_MAC)).contains("--default gen_1");
                assertThat(s.saidB().toString()).contains("pivot: profile default: generations [2, 1] from the shared"
                        + " database, generation 1 the default");
            }
        }
    }

    /**
     * Two servers on one PostgreSQL, only one of which follows the result link that a new build replaces: the other
     * fetches that build's artifacts from it by sha256 and serves the generation as well, the same bytes.
     */
    @Test
    void aServerFetchesTheArtifactsOfAGenerationOnlyAnotherServerImported() throws Exception {
        try (SharedDatabase s = SharedDatabase.start("alpha-result")) {
            try (PivotServer a = start(s.result(), work.resolve("fetch-a"), s.saidA(), s.db(), "alpha");
                 PivotServer b = start(builds[1], work.resolve("fetch-b"), s.saidB(), s.db(), "beta")) {
                String baseA = "http://127.0.0.1:" + a.httpPort(), baseB = "http://127.0.0.1:" + b.httpPort();
                assertThat(generations(baseB)).containsExactly(1);

                TestFiles.relink(s.result(), builds[3]);
                await(() -> defaultOf(baseA) == 2, "generation 2 on alpha", s.saidA());
                long recorded = System.nanoTime();
                await(() -> defaultOf(baseB) == 2, "generation 2 (alpha's build alone) on beta", s.saidB());
                System.out.printf("GenerationsIT: beta served alpha's new generation %.1f s after alpha did%n",
                        (System.nanoTime() - recorded) / 1e9);
                assertThat(generations(baseB)).containsExactly(2, 1);
                // Only the root image differs between the two builds (the marker is in it): beta fetched it.
                String generation2 = "/boot.ipxe?mac=" + OTHER_MAC + "&generation=2";
                Matcher root = ROOT_SHA.matcher(get(baseA, generation2));
                assertThat(root.find()).isTrue();
                String scriptB = get(baseB, generation2);
                assertThat(scriptB).contains("pivot.sha256=" + root.group(1));
                HttpResponse<byte[]> served = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(baseB + "/artifacts/" + root.group(1) + "/nix-store.squashfs")).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(served.statusCode()).isEqualTo(200);
                assertThat(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                        .digest(served.body()))).as("the root image beta serves").isEqualTo(root.group(1));
                String metrics = get(baseB, "/metrics");
                assertThat(metrics).containsPattern("pivot_peer_fetches_total\\{result=\"fetched\"} 1(\\.0)?\\n")
                        .containsPattern("pivot_peer_fetches_total\\{result=\"failed\"} 0(\\.0)?\\n");
                Matcher bytes = Pattern.compile("(?m)^pivot_peer_fetched_bytes_total (\\S+)$").matcher(metrics);
                assertThat(bytes.find()).as("pivot_peer_fetched_bytes_total in\n%s", metrics).isTrue();
                assertThat(Double.parseDouble(bytes.group(1))).isEqualTo(served.body().length);
                assertThat(s.saidA() + "\n" + s.saidB()).doesNotContain("refusing").doesNotContain("cannot store");
            }
        }
    }

    /**
     * A server started with a build of its own while the newest stored generation is another server's, whose
     * artifacts it has not yet: its build is the next generation after that one (not after the newest it serves,
     * a number already taken), and the other server takes it in.
     */
    @Test
    void aServerStartedWithItsOwnBuildRecordsTheGenerationAfterTheNewestStored() throws Exception {
        try (SharedDatabase s = SharedDatabase.start("own-alpha-result")) {
            try (PivotServer a = start(s.result(), work.resolve("own-a"), s.saidA(), s.db(), "alpha")) {
                String baseA = "http://127.0.0.1:" + a.httpPort();
                TestFiles.relink(s.result(), builds[3]);
                await(() -> defaultOf(baseA) == 2, "generation 2 on alpha", s.saidA());
                try (PivotServer b = start(builds[4], work.resolve("own-b"), s.saidB(), s.db(), "beta")) {
                    String baseB = "http://127.0.0.1:" + b.httpPort();
                    assertThat(defaultOf(baseB)).as("beta's own build").isEqualTo(3);
                    await(() -> defaultOf(baseA) == 3, "beta's generation 3 on alpha", s.saidA());
                    assertThat(get(baseA, "/boot.ipxe?mac=" + OTHER_MAC + "&generation=3"))
                            .as("alpha's generation 3: beta's build").contains(TestFiles.sha256(work.resolve("parts-4/nix-store.squashfs")));
                }
            }
        }
    }

    /**
     * What the two-server tests share: a private PostgreSQL (Debian's), a result link at the first build, and what
     * each server says.
     */
    private record SharedDatabase(PostgresCluster pg, Optional<String> db, Path result, StringWriter saidA,
                                  StringWriter saidB) implements AutoCloseable {
        static SharedDatabase start(String link) throws Exception {
            Path bin = PostgresCluster.requireBinDir();
            Path result = work.resolve(link);
            TestFiles.relink(result, builds[1]);
            PostgresCluster pg = PostgresCluster.start(bin);
            return new SharedDatabase(pg, Optional.of(pg.url() + "?user=pivot"), result, new StringWriter(),
                    new StringWriter());
        }

        @Override
        public void close() throws Exception {
            pg.close();
        }
    }

    private static PivotServer start(Path result, Path state, StringWriter said) throws Exception {
        return start(result, state, said, Optional.empty(), "");
    }

    private static PivotServer start(Path result, Path state, StringWriter said, Optional<String> database,
                                     String name) throws Exception {
        ServerConfig config = ServerConfig.builder(result, new ServerConfig.Where.Listen("127.0.0.1"))
                .dhcp(ServerConfig.DhcpMode.OFF, Optional.empty()).ports(0, 0).state(state)
                .ipxeDir(Files.createDirectories(work.resolve("ipxe"))).eventQueue(1024).database(database)
                .cluster(database.isEmpty() ? ServerConfig.Cluster.ALONE
                        : new ServerConfig.Cluster(ServerConfig.DhcpLeases.JOURNAL, Optional.of(name)))
                .generations(new GenerationPolicy(2, Optional.empty(), 5)).build();
        PrintStream out = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) {
                said.write(b);
            }
        }, true, StandardCharsets.UTF_8);
        return PivotServer.start(config, out, new PrintWriter(said, true));
    }


    private static long refusals(StringWriter said) {
        return said.toString().lines().filter(l -> l.contains("refusing the new build")).count();
    }

    private static void await(BooleanSupplier condition, String what, StringWriter said) throws InterruptedException {
        long deadline = System.nanoTime() + IMPORT_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no " + what + " within " + IMPORT_LIMIT.toSeconds() + " s; the server said:\n"
                        + said);
            }
            Thread.sleep(100);
        }
    }

    private static JsonNode profile(String base) {
        try {
            return JSON.readTree(get(base, "/api/v1/generations?profile=default")).get(0);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int defaultOf(String base) {
        return profile(base).path("defaultGeneration").asInt();
    }

    private static List<Integer> generations(String base) {
        List<Integer> out = new java.util.ArrayList<>();
        profile(base).path("generations").forEach(g -> out.add(g.path("number").asInt()));
        return out;
    }

    private static String script(String base, String mac) {
        return get(base, "/boot.ipxe?mac=" + mac);
    }

    private static String get(String base, String path) {
        return send(base, null, "GET", path, null);
    }

    private static String send(String base, String token, String method, String path, String body) {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofString(body));
            if (token != null) {
                r.header("Authorization", "Bearer " + token);
            }
            HttpResponse<String> reply = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(reply.statusCode()).as(method + " " + path + ": " + reply.body()).isEqualTo(200);
            return reply.body();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
