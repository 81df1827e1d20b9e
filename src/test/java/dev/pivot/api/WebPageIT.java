package dev.pivot.api;

import dev.pivot.testsupport.Require;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Firmware;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The web page in headless Chromium: it shows the machines, a boot's timeline grows live as stage-1 reports
 * arrive, a failure turns red with its reason, and the screenshot (saved to target/) is a real rendering.
 */
class WebPageIT {

    static final MacAddress OLD = MacAddress.parse("52:54:00:0e:00:01");
    static final MacAddress LIVE = MacAddress.parse("52:54:00:0e:00:02");
    static final String REASON = "no address from DHCP on eth0 after 30 s";
    static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    @Test
    void timelineUpdatesLiveAndFailuresShowTheirReason() throws Exception {
        Require.file(HeadlessChromium.BINARY, "chromium");
        try (ApiServer server = new ApiServer(dir)) {
            // One machine that booted twice before the page was opened: first a boot that failed, then one that
            // reached stage 2.
            Instant failed = Instant.now().minusSeconds(300);
            server.emit(new BootEvent(failed, OLD, Step.DHCP, false, "offer 10.0.0.50 → undionly.kpxe", 0)
                    .withFirmware(Firmware.BIOS).withAddress("10.0.0.50"));
            server.emit(new BootEvent(failed.plusSeconds(1), OLD, Step.TFTP, false, "undionly.kpxe", 70_000));
            server.emit(new BootEvent(failed.plusSeconds(2), OLD, Step.SCRIPT, false, "boot.ipxe", 1_200));
            server.emit(new BootEvent(failed.plusSeconds(18), OLD, Step.KERNEL, true, "connection reset", 0));
            Instant t = Instant.now().minusSeconds(120);
            server.emit(new BootEvent(t, OLD, Step.DHCP, false, "offer 10.0.0.50 → undionly.kpxe", 0)
                    .withFirmware(Firmware.BIOS).withAddress("10.0.0.50"));
            server.emit(new BootEvent(t.plusSeconds(1), OLD, Step.TFTP, false, "undionly.kpxe", 70_000));
            server.emit(new BootEvent(t.plusSeconds(2), OLD, Step.SCRIPT, false, "boot.ipxe", 1_200));
            server.emit(new BootEvent(t.plusSeconds(4), OLD, Step.KERNEL, false, "bzImage", 11_534_336));
            server.emit(new BootEvent(t.plusSeconds(9), OLD, Step.INITRD, false, "initrd", 9_437_184));
            server.emit(new BootEvent(t.plusSeconds(21), OLD, Step.STAGE2, false, "", 0));

            try (HeadlessChromium page = HeadlessChromium.open(server.base + "/", dir, 1200, 800)) {
                page.waitUntil("window.pivotLive && window.pivotLoaded", WAIT);
                page.waitUntil("document.querySelector('[data-mac=\"" + OLD + "\"][data-state=\"succeeded\"]')", WAIT);
                assertThat(page.eval("document.querySelectorAll('[data-mac=\"" + OLD + "\"] li').length").asInt())
                        .isEqualTo(6);
                String old = "document.querySelector('[data-mac=\"" + OLD + "\"]')";
                assertThat(page.eval(old + ".querySelector('.ip').textContent").asText()).isEqualTo("10.0.0.50");
                assertThat(page.eval("document.getElementById('empty').hidden").asBoolean()).isTrue();
                // The bar is to scale: initrd → stage2 took 12 s, kernel → initrd 5 s.
                double ratio = page.eval("(() => { const w = s => " + old + ".querySelector('.bar .seg[data-step=\"' + s"
                        + " + '\"]').getBoundingClientRect().width; return w('initrd') / w('kernel'); })()").asDouble();
                assertThat(ratio).as("initrd's segment against kernel's").isCloseTo(12.0 / 5.0, within(0.1));
                // The failed boot before it is one click away.
                assertThat(page.eval(old + ".querySelector('details.earlier summary').textContent").asText())
                        .isEqualTo("1 earlier boot");
                page.eval(old + ".querySelector('details.earlier summary').click()");
                page.waitUntil(old + ".querySelector('details.earlier .boot.failed')", WAIT);
                assertThat(page.eval(old + ".querySelector('details.earlier .boot .reason').textContent").asText())
                        .isEqualTo("kernel failed: connection reset");

                // A new machine boots while the page is open: DHCP from the "protocol server", then stage 1 reports.
                server.emit(BootEvent.ok(LIVE, Step.DHCP, "offer 10.0.0.51 → ipxe.efi", 0).withFirmware(Firmware.EFI_X64));
                server.emit(BootEvent.ok(LIVE, Step.TFTP, "ipxe.efi", 1_048_576));
                String card = "document.querySelector('[data-mac=\"" + LIVE + "\"]')";
                page.waitUntil(card + " && " + card + ".querySelectorAll('li').length === 2", WAIT);
                assertThat(page.eval(card + ".dataset.state").asText()).isEqualTo("booting");

                String report = server.reportUrl(LIVE);
                assertThat(CurlRun.run(report + "&step=stage1&status=ok").status()).isEqualTo(200);
                page.waitUntil(card + ".querySelector('li[data-step=\"stage1\"]')", WAIT);
                assertThat(CurlRun.run(report + "&step=network&status=failed&detail="
                        + URLEncoder.encode(REASON, StandardCharsets.UTF_8)).status()).isEqualTo(200);
                page.waitUntil(card + ".dataset.state === 'failed'", WAIT);

                assertThat(page.eval(card + ".querySelector('.reason').textContent").asText()).contains(REASON);
                assertThat(page.eval("getComputedStyle(" + card + ".querySelector('.reason')).color").asText())
                        .isEqualTo("rgb(198, 40, 40)");
                assertThat(page.eval("getComputedStyle(" + card + ".querySelector('li.failed')).color").asText())
                        .isEqualTo("rgb(198, 40, 40)");
                assertThat(page.eval(card + " === document.querySelector('#machines').firstElementChild").asBoolean())
                        .as("the machine that just did something is on top").isTrue();

                // The picture is taken once the fresh-event highlight (a CSS animation) has faded.
                page.waitUntil("document.getAnimations().length === 0", WAIT);
                byte[] png = page.screenshot();
                Path out = Path.of(System.getProperty("pivot.root", "."), "target", "web-page.png");
                Files.createDirectories(out.getParent());
                Files.write(out, png);
                BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
                assertThat(image.getWidth()).isEqualTo(1200);
                Set<Integer> colors = new HashSet<>();
                for (int y = 0; y < image.getHeight(); y += 2) {
                    for (int x = 0; x < image.getWidth(); x += 2) {
                        colors.add(image.getRGB(x, y));
                    }
                }
                System.out.printf("web page screenshot %s: %d bytes, %d distinct colours%n", out, png.length,
                        colors.size());
                assertThat(colors.size()).as("distinct colours in the screenshot").isGreaterThan(100);
                assertThat(colors).as("the failure red is on screen").contains(0xFFC62828);
            }
        }
    }

    /**
     * A machine that runs generation 1 when a new build (generation 2) arrives shows "reboot needed" on the page,
     * and loses it live once its next boot reaches stage 2 with generation 2.
     */
    @Test
    void aMachineBehindItsProfileShowsRebootNeededUntilItsNextBoot() throws Exception {
        Require.file(HeadlessChromium.BINARY, "chromium");
        MacAddress mac = MacAddress.parse("52:54:00:0e:00:18");
        try (ApiServer server = new ApiServer(dir)) {
            String script = server.base + "/boot.ipxe?mac=" + mac;
            // Stage 2 reports with the per-boot secret its script put on the kernel command line.
            String stage2 = server.base + "/report?mac=" + mac + "&step=stage2&status=ok&token=";
            assertThat(CurlRun.run(stage2 + tokenOf(CurlRun.run(script).body())).status()).isEqualTo(200);

            // A new build in the served directory: generation 2, imported while the server runs.
            Path kernel = dir.resolve("image-default/bzImage");
            Files.writeString(kernel, Files.readString(kernel) + "rebuilt\n");
            String generations = server.base + "/api/v1/generations";
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!CurlRun.run(generations).body().contains("\"defaultGeneration\":2")) {
                assertThat(System.nanoTime()).as("generation 2 imported; the server said:%n%s", server.output)
                        .isLessThan(deadline);
                Thread.sleep(100);
            }

            try (HeadlessChromium page = HeadlessChromium.open(server.base + "/", dir, 1200, 800)) {
                page.waitUntil("window.pivotLive && window.pivotLoaded", WAIT);
                String card = "document.querySelector('[data-mac=\"" + mac + "\"]')";
                page.waitUntil(card + " && " + card + ".querySelector('.reboot')", WAIT);
                assertThat(page.eval(card + ".querySelector('.reboot').textContent").asText())
                        .isEqualTo("reboot needed: runs generation 1, next boot gets 2");

                // Two generations: the script is a menu, whose choice chains to the chosen generation's script.
                assertThat(CurlRun.run(script).body()).contains("choose");
                String chosen = CurlRun.run(script + "&generation=2").body();
                assertThat(CurlRun.run(stage2 + tokenOf(chosen)).status()).isEqualTo(200);
                page.waitUntil(card + " && !" + card + ".querySelector('.reboot')", WAIT);
                assertThat(page.eval(card + ".textContent").asText()).contains("generation 2");
            }
        }
    }

    /** The boot's secret on a script's kernel line ({@code pivot.token=…}), as stage 1 reads it. */
    private static String tokenOf(String script) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" pivot\\.token=([^ ]+)").matcher(script);
        assertThat(m.find()).as("the script carries pivot.token=:%n%s", script).isTrue();
        return m.group(1);
    }
}
