package dev.pivot.api;

import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestFiles;
import com.fasterxml.jackson.databind.JsonNode;
import dev.pivot.demo.DemoImage;
import dev.pivot.demo.LabNetwork;
import dev.pivot.demo.ServeProcess;
import dev.pivot.demo.Qemu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real VM boot, watched the way an operator watches it: the web page (headless Chromium) shows the machine's
 * timeline growing while the VM boots, the REST API holds one session with every step in order, `pivot sessions`
 * prints it, and a boot whose root image was corrupted on the server ends red with stage 1's reason.
 *
 * <p>Pivot runs inside the lab namespace; the page and the API are reached from here through a UNIX-socket relay
 * (socat inside the namespace, socat on 127.0.0.1 here), so nothing leaves loopback or the namespace.
 */
class VmTimelineIT {

    private static final Duration BOOT_LIMIT = Duration.ofSeconds(240);
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String MAC = "52:54:00:77:00:c3";
    private static final List<String> HEALTHY_ORDER = List.of("dhcp", "script", "kernel", "initrd", "stage1",
            "network", "root_image", "root_fetched", "handover", "stage2");

    @TempDir
    Path work;

    @Test
    void aBootIsOneLiveTimelineOnThePageTheApiAndTheCliAndACorruptRootEndsRedWithItsReason() throws Exception {
        Require.vmLab();
        Require.file(HeadlessChromium.BINARY, "chromium");
        Require.command("socat");
        Path root = Require.packagedCli();
        Path image = DemoImage.build(root, work.resolve("image"), "--parts", work.resolve("parts").toString());
        String rootSha = TestFiles.sha256(work.resolve("parts/nix-store.squashfs"));
        Path state = Files.createDirectories(work.resolve("state"));

        try (LabNetwork lab = LabNetwork.create("tline")) {
            ServeProcess server = ServeProcess.start(lab, root, image, "full", state,
                    line -> System.out.println("serve | " + line));
            try (LabApi api = LabApi.open(lab, WAIT);
                 HeadlessChromium page = HeadlessChromium.open(api.base() + "/", work, 1200, 800)) {
                page.waitUntil("window.pivotLive && window.pivotLoaded", WAIT);
                String card = "document.querySelector('[data-mac=\"" + MAC + "\"]')";

                // 1. A healthy boot, seen live.
                try (Qemu vm = Qemu.start(lab.namespace(), Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO,
                        MAC, LabNetwork.TAP, lab.workDir().resolve("serial-ok.log")))) {
                    page.waitUntil(card + " && " + card + ".querySelector('li[data-step=\"kernel\"]')", BOOT_LIMIT);
                    assertThat(vm.serial()).as("the page showed the kernel download before stage 2")
                            .doesNotContain(Qemu.DEFAULT_MARKER);
                    assertThat(page.eval(card + ".dataset.state").asText()).isEqualTo("booting");
                    Duration took = vm.awaitMarker(Qemu.DEFAULT_MARKER, BOOT_LIMIT);
                    System.out.printf("VmTimelineIT: healthy boot, QEMU start -> stage 2 in %s%n", Qemu.seconds(took));
                    page.waitUntil(card + ".dataset.state === 'succeeded'", WAIT);
                }
                JsonNode healthy = api.latestSession(MAC);
                assertThat(healthy.get("state").asText()).isEqualTo("succeeded");
                assertThat(LabApi.steps(healthy)).containsSubsequence(HEALTHY_ORDER);
                assertThat(healthy.get("events").get(0).get("step").asText()).isEqualTo("dhcp");

                String cliOut = api.sessionsCli(root, MAC);
                for (String step : HEALTHY_ORDER) {
                    assertThat(cliOut).contains(step);
                }

                // 2. The same machine again, after one byte of its root image flipped in the server's store.
                Path object = state.resolve("artifacts/objects/" + rootSha);
                assertThat(object).exists();
                object.toFile().setWritable(true, true);
                TestFiles.flipMiddleByte(object);
                try (Qemu vm = Qemu.start(lab.namespace(), Qemu.Spec.of(Qemu.Boot.BIOS_IPXE_ROM, Qemu.Nic.VIRTIO,
                        MAC, LabNetwork.TAP, lab.workDir().resolve("serial-corrupt.log")))) {
                    vm.awaitMarker("pivot: FAILED at", BOOT_LIMIT);
                    assertThat(vm.serial()).contains("sha256");
                    page.waitUntil(card + ".dataset.state === 'failed'", WAIT);
                }
                JsonNode failed = api.latestSession(MAC);
                assertThat(failed.get("id").asLong()).isGreaterThan(healthy.get("id").asLong());
                assertThat(failed.get("state").asText()).isEqualTo("failed");
                assertThat(failed.get("failure").get("reason").asText()).contains("sha256");
                assertThat(page.eval(card + ".querySelector('.reason').textContent").asText()).contains("sha256");
                assertThat(page.eval("getComputedStyle(" + card + ".querySelector('.reason')).color").asText())
                        .isEqualTo("rgb(198, 40, 40)");

                byte[] png = page.screenshot();
                Path out = root.resolve("target/vm-timeline.png");
                Files.write(out, png);
                var picture = ImageIO.read(new ByteArrayInputStream(png));
                Set<Integer> colours = new HashSet<>();
                for (int y = 0; y < picture.getHeight(); y += 2) {
                    for (int x = 0; x < picture.getWidth(); x += 2) {
                        colours.add(picture.getRGB(x, y));
                    }
                }
                System.out.printf("VmTimelineIT: screenshot %s, %d distinct colours%n", out, colours.size());
                assertThat(colours.size()).isGreaterThan(100);
                assertThat(server.isAlive()).isTrue();
            }
        }
    }
}
