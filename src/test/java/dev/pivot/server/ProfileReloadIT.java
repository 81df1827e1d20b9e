package dev.pivot.server;

import dev.pivot.api.ApiServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * profiles.yaml edited while `pivot serve` runs: the server sees the change by itself and routes machines anew
 * without a restart; a file that does not check changes nothing and says so; a reload on demand (SIGHUP's path)
 * works the same.
 */
class ProfileReloadIT {

    private static final String MAC = "52:54:00:5e:10:01";
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void anEditedProfilesFileIsAppliedWithoutARestart() throws Exception {
        try (ApiServer server = new ApiServer(dir, List.of("rescue"))) {
            Path file = server.server.config().profiles().orElseThrow();
            String original = Files.readString(file);
            String defaultKernel = server.kernelSha("default");
            String rescueKernel = server.kernelSha("rescue");
            assertThat(script(server)).contains(defaultKernel);
            assertThat(server.output.toString()).contains("pivot: profile rescue: ").contains("pivot: default profile: default");

            // The machine joins a group booting "rescue": the watcher picks the edit up by itself.
            Files.writeString(file, original + "groups:\n  lab:\n    profile: rescue\n    machines: [" + MAC + "]\n");
            awaitScriptWith(server, rescueKernel);
            assertThat(server.output.toString()).contains("pivot: profiles reloaded from " + file)
                    .contains("group lab ").contains(" rescue: 1 machine");

            // A group naming a profile that does not exist: nothing changes, one line says why.
            Files.writeString(file, original + "groups:\n  lab:\n    profile: nope\n    machines: [" + MAC + "]\n");
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!server.output.toString().contains("not reloaded, the profiles in use stay")) {
                assertThat(System.nanoTime()).as("the refusal said; the server said:%n%s", server.output)
                        .isLessThan(deadline);
                Thread.sleep(100);
            }
            assertThat(script(server)).as("the routing in use stays").contains(rescueKernel);

            // Back to the original on demand, as SIGHUP does.
            Files.writeString(file, original);
            assertThat(server.server.reloadProfiles()).isTrue();
            assertThat(script(server)).contains(defaultKernel);
        }
    }

    private static void awaitScriptWith(ApiServer server, String kernel) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = "";
        while (!(last = script(server)).contains(kernel)) {
            assertThat(System.nanoTime()).as("the new routing applied; last script:%n%s%nserver:%n%s", last,
                    server.output).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static String script(ApiServer server) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.base + "/boot.ipxe?mac=" + MAC))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
