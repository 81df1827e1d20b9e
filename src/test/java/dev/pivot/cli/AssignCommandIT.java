package dev.pivot.cli;

import dev.pivot.api.ApiServer;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.pivot.cli.MachinesSessionsCommandIT.run;
import static org.assertj.core.api.Assertions.assertThat;

/** `pivot assign` changes what /boot.ipxe hands a machine; --once lasts until stage 2. */
class AssignCommandIT {

    static final MacAddress MAC = MacAddress.parse("52:54:00:a5:00:01");

    @TempDir
    Path dir;

    static String script(ApiServer server) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(server.base + "/boot.ipxe?mac=" + MAC))
                .build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void assignChangesTheBootScriptAndOnceEndsAtStageTwo() throws Exception {
        try (ApiServer server = new ApiServer(dir, List.of("rescue"))) {
            String a = server.kernelSha("default");
            String b = server.kernelSha("rescue");
            assertThat(script(server)).contains(a).doesNotContain(b);

            var r = run(new AssignCommand(), "--server", server.base, "--token-file", server.tokenFile.toString(), MAC.toString(), "rescue", "--once");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).contains(MAC + " → rescue (once");
            assertThat(script(server)).contains(b);

            server.emit(BootEvent.ok(MAC, Step.TFTP, "undionly.kpxe", 0)); // past DHCP: a machine record
            var machines = run(new MachinesCommand(), "--server", server.base);
            assertThat(machines.out()).contains(MAC.toString());
            server.emit(BootEvent.ok(MAC, Step.STAGE2, "", 0)); // the one boot happened
            assertThat(script(server)).contains(a);

            assertThat(run(new AssignCommand(), "--server", server.base, "--token-file", server.tokenFile.toString(), MAC.toString(), "rescue").exit()).isZero();
            assertThat(run(new AssignCommand(), "--server", server.base, "--token-file", server.tokenFile.toString(), MAC.toString(), "--clear").out())
                    .contains("assignment removed");
            assertThat(script(server)).contains(a);

            var bad = run(new AssignCommand(), "--server", server.base, "--token-file", server.tokenFile.toString(), MAC.toString(), "nope");
            assertThat(bad.exit()).isEqualTo(ExitCodes.USAGE); // a request the API refused
            assertThat(bad.err().strip()).isEqualTo("pivot assign: unknown profile 'nope' (known: default, rescue)");
            assertThat(run(new AssignCommand(), "--server", server.base, "--token-file", server.tokenFile.toString(), MAC.toString()).err())
                    .contains("give a PROFILE, or --clear");
        }
    }
}
