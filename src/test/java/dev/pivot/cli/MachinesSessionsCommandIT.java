package dev.pivot.cli;

import dev.pivot.testsupport.CliRun;
import dev.pivot.api.ApiServer;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Firmware;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** `pivot machines` and `pivot sessions [--follow]` against a loopback Pivot with a few boots recorded. */
class MachinesSessionsCommandIT {

    static final MacAddress A = MacAddress.parse("52:54:00:c1:00:01");
    static final MacAddress B = MacAddress.parse("52:54:00:c1:00:02");

    @TempDir
    Path dir;

    /** A command run as `pivot` runs it: one error line and the exit code table. */
    static CliRun run(Object command, String... args) {
        return CliRun.of(Main.configure(new CommandLine(command)), args);
    }

    static final Instant T0 = Instant.now().minusSeconds(30);

    static void boot(ApiServer server) {
        Instant t = T0;
        server.emit(new BootEvent(t, A, Step.DHCP, false, "offer 10.0.0.60 → undionly.kpxe", 0)
                .withFirmware(Firmware.BIOS).withAddress("10.0.0.60"));
        server.emit(new BootEvent(t.plusMillis(500), A, Step.TFTP, false, "undionly.kpxe", 70_000)
                .withAddress("10.0.0.61"));
        server.emit(new BootEvent(t.plusSeconds(6), A, Step.NETWORK, true, "no carrier on eth0", 0));
        server.emit(new BootEvent(t.plusSeconds(8), B, Step.DHCP, false, "proxy offer ipxe.efi", 0).withFirmware(Firmware.EFI_X64));
        // Past DHCP: a machine record (DHCP alone makes none).
        server.emit(new BootEvent(t.plusSeconds(8), B, Step.SCRIPT, false, "boot.ipxe", 900));
        server.store.label(B, "rack", "r2");
    }

    @Test
    void machinesShowsStateFirmwareLabelsAndFailure() throws Exception {
        try (ApiServer server = new ApiServer(dir)) {
            boot(server);
            MachinesCommand machines = new MachinesCommand();
            machines.clock = java.time.Clock.fixed(T0.plusSeconds(30), java.time.ZoneOffset.UTC);
            CliRun r = run(machines, "--server", server.base.replace("http://", "")); // HOST:PORT
            assertThat(r.exit()).as(r.err()).isZero();
            String[] lines = r.out().split("\n");
            assertThat(lines[0]).startsWith("MAC").contains("IP", "STATE", "LAST SEEN", "PROFILE");
            assertThat(lines[1]).startsWith(B.toString()).contains("uefi").contains("booting").contains("rack=r2")
                    .contains("22 s ago").contains("  default  ");
            assertThat(lines[2]).startsWith(A.toString() + "  10.0.0.61  ").contains("bios").contains("failed")
                    .contains("24 s ago").contains("network failed: no carrier on eth0");
        }
    }

    @Test
    void sessionsPrintTimelinesAndFollowPrintsLiveEvents() throws Exception {
        try (ApiServer server = new ApiServer(dir)) {
            boot(server);
            CliRun r = run(new SessionsCommand(), "--server", server.base, "--mac", "52-54-00-C1-00-01");
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(r.out()).contains("session 1  " + A + "  failed").contains("(network failed: no carrier on eth0)")
                    .contains("tftp         undionly.kpxe  (68.4 KiB)").doesNotContain(B.toString());

            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            AtomicInteger exit = new AtomicInteger(-1);
            CommandLine cmd = new CommandLine(new SessionsCommand()).setOut(new PrintWriter(out, true))
                    .setErr(new PrintWriter(err, true));
            Thread follower = Thread.ofVirtual().start(() -> exit.set(cmd.execute("--server", server.base,
                    "--follow", "--mac", B.toString(), "--limit", "1")));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!err.toString().contains("following") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(err.toString()).contains("following live events");
            server.emit(BootEvent.ok(A, Step.DHCP, "offer 10.0.0.60 → undionly.kpxe", 0).withFirmware(Firmware.BIOS));
            server.emit(BootEvent.ok(B, Step.TFTP, "ipxe.efi", 1_048_576));
            while (!out.toString().contains("ipxe.efi  (1.0 MiB)") && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            server.close(); // ends the stream: --follow returns
            follower.join(TimeUnit.SECONDS.toMillis(20));
            assertThat(out.toString()).contains("session 2  " + B + "  +").contains("tftp         ipxe.efi  (1.0 MiB)")
                    .doesNotContain("10.0.0.60");
            assertThat(exit.get()).isZero();
        }
    }

    @Test
    void jsonIsTheApisAsItIsAndProtectedReadsTakeTheTokenFromAnySource() throws Exception {
        try (ApiServer server = new ApiServer(dir, List.of(), true)) {
            boot(server);
            MachinesCommand noToken = new MachinesCommand();
            noToken.server.env = Map.<String, String>of()::get;
            Path elsewhere = dir.resolve("elsewhere");
            CliRun refused = run(noToken, "--server", server.base, "--state", elsewhere.toString());
            assertThat(refused.exit()).isEqualTo(ExitCodes.USAGE);
            assertThat(refused.err()).isEqualTo("pivot machines: the server protects reads (--protect-reads): no API"
                    + " token: tried --token-file (not given), $PIVOT_TOKEN (not set), --state " + elsewhere
                    + " (no such directory); give --token-file FILE or set PIVOT_TOKEN\n");

            MachinesCommand wrong = new MachinesCommand();
            wrong.server.env = Map.of("PIVOT_TOKEN", "not-the-token-0123456789")::get;
            CliRun wrongRun = run(wrong, "--server", server.base);
            assertThat(wrongRun.exit()).isEqualTo(ExitCodes.USAGE);
            assertThat(wrongRun.err()).isEqualTo("pivot machines: the server refused the API token from $PIVOT_TOKEN\n");

            CliRun machines = run(new MachinesCommand(), "--server", server.base, "--token-file",
                    server.tokenFile.toString(), "--json");
            assertThat(machines.exit()).as(machines.err()).isZero();
            assertThat(machines.out()).isEqualTo(api(server, "/api/v1/machines") + "\n");

            CliRun sessions = run(new SessionsCommand(), "--server", server.base, "--state",
                    server.tokenFile.getParent().toString(), "--json", "--limit", "5");
            assertThat(sessions.exit()).as(sessions.err()).isZero();
            assertThat(sessions.out()).isEqualTo(api(server, "/api/v1/sessions?limit=5") + "\n")
                    .contains("\"address\":\"10.0.0.61\"");
        }
    }

    static String api(ApiServer server, String path) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(server.base + path)).header("Authorization", "Bearer " + server.token).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    @Test
    void anUnreachableServerAndBadOptionsGetOneLine() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        CliRun r = run(new MachinesCommand(), "--server", "http://127.0.0.1:" + port);
        assertThat(r.exit()).isEqualTo(ExitCodes.UNREACHABLE);
        assertThat(r.err().strip()).startsWith("pivot machines: cannot reach Pivot at http://127.0.0.1:" + port)
                .doesNotContain("\n");
        CliRun bad = run(new SessionsCommand(), "--mac", "nope");
        assertThat(bad.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(bad.err().strip()).isEqualTo("pivot sessions: --mac nope: not a MAC address: 'nope'");
        assertThat(run(new SessionsCommand(), "--server", "ftp://x").err()).contains("expected http://HOST[:PORT] or HOST:PORT");
    }
}
