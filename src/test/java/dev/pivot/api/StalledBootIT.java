package dev.pivot.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pivot.demo.DemoImage;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.Qemu;
import dev.pivot.demo.ServeProcess;
import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A boot that dies silently does not stay "booting": the VM gets its kernel and initrds, then its link is cut
 * (its tap leaves the lab bridge), so stage 1 can reach nothing and never reports. Within the initrd step's
 * deadline (here --stall-after initrd=45) the page (headless Chromium), the API, `pivot sessions` and /metrics show
 * the boot as stalled; with the link back, the machine's next boot is a new session that reaches stage 2.
 */
class StalledBootIT {

    private static final Duration BOOT_LIMIT = Duration.ofSeconds(240);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration DEADLINE = Duration.ofSeconds(45);
    /** The watch checks every second; the page hears it over SSE. */
    private static final Duration SLACK = Duration.ofSeconds(15);
    private static final String MAC = "52:54:00:77:00:d5";

    @TempDir
    Path work;

    @Test
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void aBootThatStopsReportingBecomesStalledEverywhereAndTheNextBootIsANewSession() throws Exception {
        Require.vmLab();
        Require.file(HeadlessChromium.BINARY, "chromium");
        Require.command("socat");
        Path root = Require.packagedCli();
        Path image = DemoImage.build(root, work.resolve("image"));
        Path state = Files.createDirectories(work.resolve("state"));

        try (LabNetwork lab = LabNetwork.create("stall")) {
            ServeProcess server = ServeProcess.start(lab, root, image, "full", state,
                    List.of("--stall-after", "initrd=" + DEADLINE.toSeconds()),
                    line -> System.out.println("serve | " + line));
            try (LabApi api = LabApi.open(lab, WAIT);
                 HeadlessChromium page = HeadlessChromium.open(api.base() + "/", work, 1200, 800)) {
                page.waitUntil("window.pivotLive && window.pivotLoaded", WAIT);
                String card = "document.querySelector('[data-mac=\"" + MAC + "\"]')";

                // 1. Kernel and both initrds arrive; then the machine's link is cut before stage 1 can report.
                long stalledId;
                try (Qemu vm = Qemu.start(lab.namespace(), Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO,
                        MAC, LabNetwork.TAP, lab.workDir().resolve("serial-cut.log")))) {
                    page.waitUntil(card + " && " + card + ".querySelectorAll('li[data-step=\"initrd\"]').length === 2",
                            BOOT_LIMIT);
                    lab.namespace().ip("link", "set", LabNetwork.TAP, "nomaster");
                    Instant lastInitrd = Instant.parse(lastEvent(api).get("at").asText());
                    page.waitUntil(card + ".dataset.state === 'stalled'", DEADLINE.plus(SLACK).plus(SLACK));
                    Duration after = Duration.between(lastInitrd, Instant.now());
                    System.out.printf("StalledBootIT: the page showed 'stalled' %.1f s after the last initrd event "
                            + "(deadline %d s)%n", after.toMillis() / 1000.0, DEADLINE.toSeconds());
                    assertThat(after).isLessThanOrEqualTo(DEADLINE.plus(SLACK));
                    assertThat(vm.serial()).as("stage 1 never reached the server").doesNotContain(Qemu.DEFAULT_MARKER);
                }
                JsonNode stalled = api.latestSession(MAC);
                stalledId = stalled.get("id").asLong();
                assertThat(stalled.get("state").asText()).isEqualTo("stalled");
                assertThat(LabApi.steps(stalled)).endsWith("initrd", "stalled");
                assertThat(page.eval(card + ".querySelector('li[data-step=\"stalled\"] .detail').textContent")
                        .asText()).contains("no next event within 45 s after initrd");

                String cliOut = api.sessionsCli(root, MAC);
                assertThat(cliOut).containsPattern("session " + stalledId + "\\s+" + MAC + "\\s+stalled");
                assertThat(LabApi.get(api.base() + "/metrics")).containsPattern("pivot_boots_stalled_total 1(\\.0)?\\n");

                // 2. The link is back: the machine's next boot is a new session, and it reaches stage 2.
                lab.namespace().attach(LabNetwork.TAP, LabNetwork.BRIDGE);
                try (Qemu vm = Qemu.start(lab.namespace(), Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO,
                        MAC, LabNetwork.TAP, lab.workDir().resolve("serial-ok.log")))) {
                    vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
                    page.waitUntil(card + ".dataset.state === 'succeeded'", WAIT);
                }
                JsonNode next = api.latestSession(MAC);
                assertThat(next.get("id").asLong()).isGreaterThan(stalledId);
                assertThat(next.get("state").asText()).isEqualTo("succeeded");
                assertThat(LabApi.steps(next).getFirst()).isEqualTo("dhcp");
                assertThat(LabApi.steps(next)).doesNotContain("stalled");
                assertThat(api.session(stalledId).get("state").asText())
                        .as("the stalled boot stays as it was").isEqualTo("stalled");
                Files.write(root.resolve("target/stalled-boot.png"), page.screenshot());
                assertThat(server.isAlive()).isTrue();
            }
        }
    }

    private static JsonNode lastEvent(LabApi api) throws Exception {
        JsonNode events = api.latestSession(MAC).get("events");
        return events.get(events.size() - 1);
    }
}
