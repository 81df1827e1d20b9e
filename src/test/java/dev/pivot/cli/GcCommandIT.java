package dev.pivot.cli;

import dev.pivot.api.ApiServer;
import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import dev.pivot.testsupport.CliRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `pivot gc` against a running server: what no profile uses and nothing imported lately goes; what a profile
 * boots stays however old; changes need the token.
 */
class GcCommandIT {

    @TempDir
    Path dir;

    @Test
    void removesOnlyUnusedOldArtifactsThroughTheApi() throws Exception {
        try (ApiServer server = new ApiServer(dir, List.of("rescue"))) {
            Path state = server.server.config().state();
            ArtifactStore store = ArtifactStore.open(state.resolve("artifacts"));
            Artifact unused = store.put(new ByteArrayInputStream(new byte[4096]), "old-kernel");
            Artifact fresh = store.put(new ByteArrayInputStream(new byte[] {7}), "new-kernel");
            // Everything but the fresh one imported 40 days ago: the profiles' own artifacts among them.
            try (Stream<Path> objects = Files.list(state.resolve("artifacts/objects"))) {
                for (Path p : objects.filter(p -> p.getFileName().toString().matches("[0-9a-f]{64}")).toList()) {
                    if (!p.getFileName().toString().equals(fresh.sha256())) {
                        Files.setLastModifiedTime(p, FileTime.from(Instant.now().minus(Duration.ofDays(40))));
                    }
                }
            }

            CliRun noToken = CliRun.of(Main.commandLine(), "gc", "--server", server.base, "--state",
                    dir.resolve("nowhere").toString());
            assertThat(noToken.exit()).isEqualTo(ExitCodes.USAGE);
            assertThat(store.path(unused)).exists();

            CliRun gc = CliRun.of(Main.commandLine(), "gc", "--server", server.base, "--token-file",
                    server.tokenFile.toString(), "--older-than", "30");
            assertThat(gc.exit()).as(gc.err()).isZero();
            assertThat(gc.out()).startsWith("pivot gc: removed 1 artifacts (4.0 KiB), kept ");
            assertThat(store.path(unused)).doesNotExist();
            assertThat(store.path(fresh)).as("imported lately").exists();
            for (String profile : List.of("default", "rescue")) {
                assertThat(state.resolve("artifacts/objects").resolve(server.kernelSha(profile)))
                        .as(profile + "'s kernel, 40 days old but in use").exists();
                assertThat(Http.status(server.base + "/artifacts/" + server.kernelSha(profile) + "/bzImage"))
                        .as(profile + "'s kernel still served").isEqualTo(200);
            }
            assertThat(Http.get(server.base + "/boot.ipxe?mac=52:54:00:9c:00:01")).contains(server.kernelSha("default"));
        }
    }

    /** Minimal HTTP for the asserts. */
    static final class Http {
        static String get(String url) throws Exception {
            return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(url)).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        }

        static int status(String url) throws Exception {
            return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(url)).build(), java.net.http.HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        }
    }
}
