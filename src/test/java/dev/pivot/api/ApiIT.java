package dev.pivot.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Firmware;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The REST API and the SSE stream on a loopback server, driven by curl. */
class ApiIT {

    static final MacAddress BIOS = MacAddress.parse("52:54:00:12:34:01");
    static final MacAddress UEFI = MacAddress.parse("52:54:00:12:34:02");
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static ApiServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new ApiServer(dir);
        Instant t = Instant.now().minusSeconds(60);
        server.emit(new BootEvent(t, BIOS, Step.DHCP, false, "offer 10.0.0.100 → undionly.kpxe", 0).withFirmware(Firmware.BIOS));
        server.emit(new BootEvent(t.plusMillis(400), BIOS, Step.TFTP, false, "undionly.kpxe", 70_123));
        server.emit(new BootEvent(t.plusSeconds(1), BIOS, Step.SCRIPT, false, "boot.ipxe", 900));
        server.emit(new BootEvent(t.plusSeconds(2), UEFI, Step.DHCP, false, "proxy offer ipxe.efi", 0).withFirmware(Firmware.EFI_X64));
        // Past DHCP: a machine record (DHCP alone makes none).
        server.emit(new BootEvent(t.plusMillis(2500), UEFI, Step.TFTP, false, "ipxe.efi", 1_000_000));
        server.emit(new BootEvent(t.plusSeconds(3), BIOS, Step.KERNEL, false, "bzImage", 12_000_000));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static JsonNode get(String path, int status) throws Exception {
        CurlRun r = CurlRun.run(server.base + path);
        assertThat(r.status()).as("%s → %s", path, r.body()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    @Test
    void machinesListEveryMachineWithFirmwareAndLastBoot() throws Exception {
        JsonNode machines = get("/api/v1/machines", 200);
        List<String> macs = new ArrayList<>();
        machines.forEach(m -> macs.add(m.get("mac").asText()));
        assertThat(macs).contains(BIOS.toString(), UEFI.toString());

        JsonNode bios = get("/api/v1/machines/" + BIOS, 200);
        assertThat(bios.get("firmware").asText()).isEqualTo("bios");
        assertThat(bios.get("lastBoot").get("state").asText()).isIn("booting", "failed");
        assertThat(Instant.parse(bios.get("firstSeen").asText())).isBefore(Instant.parse(bios.get("lastSeen").asText()));
        assertThat(get("/api/v1/machines/" + UEFI, 200).get("firmware").asText()).isEqualTo("uefi");
    }

    @Test
    void unknownAndMalformedMachinesAreRefusedWithAReason() throws Exception {
        assertThat(get("/api/v1/machines/52:54:00:99:99:99", 404).get("error").asText()).contains("52:54:00:99:99:99");
        assertThat(get("/api/v1/machines/not-a-mac", 400).get("error").asText()).contains("not-a-mac");
        assertThat(get("/api/v1/sessions?limit=0", 400).get("error").asText()).contains("limit");
        assertThat(get("/api/v1/sessions/abc", 400).get("error").asText()).contains("abc");
        assertThat(get("/api/v1/sessions/999999", 404).get("error").asText()).contains("999999");
        CurlRun post = CurlRun.run(server.base + "/api/v1/machines", "-X", "POST",
                "-H", "Authorization: Bearer " + server.token);
        assertThat(post.status()).isEqualTo(405);
        assertThat(CurlRun.run(server.base + "/api/v1/machines", "-X", "POST").status())
                .as("a change without the token is refused before anything else").isEqualTo(401);
    }

    @Test
    void sessionsHaveOrderedEventsWithTimesStepsAndBytes() throws Exception {
        JsonNode sessions = get("/api/v1/sessions?mac=" + BIOS + "&limit=1", 200);
        assertThat(sessions).hasSize(1);
        long id = sessions.get(0).get("id").asLong();
        JsonNode session = get("/api/v1/sessions/" + id, 200);
        assertThat(session.get("mac").asText()).isEqualTo(BIOS.toString());
        List<String> steps = new ArrayList<>();
        session.get("events").forEach(e -> steps.add(e.get("step").asText()));
        assertThat(steps.subList(0, 4)).containsExactly("dhcp", "tftp", "script", "kernel");
        JsonNode tftp = session.get("events").get(1);
        assertThat(tftp.get("bytes").asLong()).isEqualTo(70_123);
        assertThat(tftp.get("sinceStart").asDouble()).isEqualTo(0.4);
        assertThat(tftp.get("failed").asBoolean()).isFalse();
        assertThat(tftp.get("detail").asText()).isEqualTo("undionly.kpxe");
        assertThat(Instant.parse(tftp.get("at").asText())).isAfter(Instant.parse(session.get("started").asText()));
        assertThat(get("/api/v1/sessions", 200).size()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void sessionListsArePagedNewestFirst() throws Exception {
        JsonNode all = get("/api/v1/sessions?limit=1000", 200);
        assertThat(all.size()).isGreaterThanOrEqualTo(2);
        List<Long> paged = new ArrayList<>();
        String next = "0";
        while (next != null) {
            CurlRun page = CurlRun.run(server.base + "/api/v1/sessions?limit=1&offset=" + next, "-i");
            assertThat(page.status()).isEqualTo(200);
            String[] headAndBody = page.body().split("\r\n\r\n", 2);
            JsonNode sessions = JSON.readTree(headAndBody[1]);
            assertThat(sessions.size()).isLessThanOrEqualTo(1);
            sessions.forEach(s -> paged.add(s.get("id").asLong()));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?im)^X-Next-Offset: (\\d+)\r?$")
                    .matcher(headAndBody[0]);
            next = m.find() ? m.group(1) : null;
            assertThat(paged.size()).as("pages end").isLessThanOrEqualTo(all.size() + 1);
        }
        List<Long> ids = new ArrayList<>();
        all.forEach(s -> ids.add(s.get("id").asLong()));
        assertThat(paged).isEqualTo(ids);
        assertThat(get("/api/v1/sessions?offset=-1", 400).get("error").asText()).contains("offset");
    }

    @Test
    void labelsAreSetAndRemovedWithTheToken() throws Exception {
        String bearer = "Authorization: Bearer " + server.token;
        CurlRun put = CurlRun.run(server.base + "/api/v1/machines/" + UEFI + "/labels/rack", "-X", "PUT",
                "-H", bearer, "--data-binary", "r7");
        assertThat(put.status()).isEqualTo(200);
        assertThat(JSON.readTree(put.body()).get("labels").get("rack").asText()).isEqualTo("r7");
        assertThat(get("/api/v1/machines/" + UEFI, 200).get("labels").get("rack").asText()).isEqualTo("r7");
        assertThat(CurlRun.run(server.base + "/api/v1/machines/" + UEFI + "/labels/rack", "-X", "DELETE",
                "-H", bearer).status()).isEqualTo(200);
        assertThat(get("/api/v1/machines/" + UEFI, 200).get("labels").has("rack")).isFalse();
        assertThat(CurlRun.run(server.base + "/api/v1/machines/52:54:00:99:99:98/labels/rack", "-X", "PUT",
                "-H", bearer, "--data-binary", "r7").status()).isEqualTo(404);
    }

    @Test
    void changesWithoutTheTokenAreRefusedAndChangeNothing() throws Exception {
        CurlRun none = CurlRun.run(server.base + "/api/v1/machines/" + UEFI + "/labels/rack", "-X", "PUT",
                "--data-binary", "r7");
        assertThat(none.status()).isEqualTo(401);
        assertThat(JSON.readTree(none.body()).get("error").asText()).contains("token");
        CurlRun wrong = CurlRun.run(server.base + "/api/v1/machines/" + UEFI + "/labels/rack", "-X", "PUT",
                "-H", "Authorization: Bearer " + "0".repeat(server.token.length()), "--data-binary", "r7");
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(get("/api/v1/machines/" + UEFI, 200).get("labels").has("rack")).isFalse();
    }

    @Test
    void protectedReadsNeedTheTokenByHeaderOrQuery() throws Exception {
        try (ApiServer server = new ApiServer(java.nio.file.Files.createDirectories(dir.resolve("protected")),
                java.util.List.of(), true)) {
            assertThat(CurlRun.run(server.base + "/api/v1/machines").status()).isEqualTo(401);
            assertThat(CurlRun.run(server.base + "/metrics").status()).isEqualTo(401);
            assertThat(CurlRun.run(server.base + "/api/v1/machines", "-H", "Authorization: Bearer " + server.token)
                    .status()).isEqualTo(200);
            assertThat(CurlRun.run(server.base + "/api/v1/machines?token=" + server.token).status()).isEqualTo(200);
            assertThat(CurlRun.run(server.base + "/").status()).as("the page itself; its API calls carry ?token=")
                    .isEqualTo(200);
        }
    }

    @Test
    void eventStreamDeliversStageOneReportsLive() throws Exception {
        Process sse = new ProcessBuilder("curl", "-sS", "-N", "--max-time", "20", server.base + "/api/v1/events")
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(sse.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(in.readLine()).isEqualTo("retry: 2000"); // connected: the server has subscribed it
            String reason = "no NIC driver for 8086:100e";
            CurlRun report = CurlRun.run(server.reportUrl(BIOS) + "&step=network&status=failed&detail="
                    + URLEncoder.encode(reason, StandardCharsets.UTF_8));
            assertThat(report.status()).isEqualTo(200);
            JsonNode event = null;
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("data: ")) {
                    event = JSON.readTree(line.substring(6));
                    break;
                }
            }
            assertThat(event).as("an SSE data line").isNotNull();
            assertThat(event.get("mac").asText()).isEqualTo(BIOS.toString());
            assertThat(event.get("step").asText()).isEqualTo("network");
            assertThat(event.get("failed").asBoolean()).isTrue();
            assertThat(event.get("detail").asText()).isEqualTo(reason);
            assertThat(event.get("state").asText()).isEqualTo("failed");
            assertThat(event.get("session").asLong()).isPositive();
            // The acknowledged report is in the database already.
            JsonNode session = get("/api/v1/sessions/" + event.get("session").asLong(), 200);
            assertThat(session.get("failure").get("reason").asText()).isEqualTo(reason);
        } finally {
            sse.destroyForcibly();
            sse.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
