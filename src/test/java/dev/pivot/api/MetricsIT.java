package dev.pivot.api;

import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Firmware;
import dev.pivot.boot.Step;
import dev.pivot.api.PrometheusText;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static dev.pivot.api.PrometheusText.value;
import static org.assertj.core.api.Assertions.assertThat;

/** /metrics scraped with curl while events arrive (from a "protocol server" and from stage-1 reports). */
class MetricsIT {

    @TempDir
    Path dir;

    @Test
    void scrapeReflectsBootEvents() throws Exception {
        MacAddress mac = MacAddress.parse("52:54:00:77:00:01");
        try (ApiServer server = new ApiServer(dir)) {
            Map<String, Double> before = PrometheusText.parse(CurlRun.run(server.base + "/metrics").body());
            assertThat(value(before, "pivot_served_bytes_total", "protocol=\"tftp\"")).isZero();

            // A download no machine is named for (no ?mac=, and before any report taught the server who
            // 127.0.0.1 is) is counted all the same.
            assertThat(value(before, "pivot_downloads_anonymous_total")).isZero();
            String kernel = server.kernelSha("default");
            assertThat(CurlRun.run(server.base + "/artifacts/" + kernel + "/bzImage").status()).isEqualTo(200);
            Map<String, Double> anonymous = PrometheusText.parse(CurlRun.run(server.base + "/metrics").body());
            assertThat(value(anonymous, "pivot_downloads_anonymous_total")).isEqualTo(1);
            assertThat(value(anonymous, "pivot_downloads_anonymous_bytes_total"))
                    .isEqualTo((double) java.nio.file.Files.size(dir.resolve("image-default/bzImage")));

            server.emit(BootEvent.ok(mac, Step.DHCP, "offer 10.0.0.5 → undionly.kpxe", 0).withFirmware(Firmware.BIOS)
                    .withDhcp(BootEvent.DhcpAnswer.OFFER));
            server.emit(BootEvent.ok(mac, Step.TFTP, "undionly.kpxe", 68_000));
            String report = server.reportUrl(mac);
            assertThat(CurlRun.run(report + "&step=stage1").status()).isEqualTo(200);
            assertThat(CurlRun.run(report + "&step=root_fetched&status=failed&detail=sha256+mismatch")
                    .status()).isEqualTo(200);

            // Metrics follow the events on the pipeline's dispatcher thread: wait until it caught up.
            assertThat(server.events.flush(java.time.Duration.ofSeconds(10))).isTrue();
            CurlRun scrape = CurlRun.run(server.base + "/metrics");
            assertThat(scrape.status()).isEqualTo(200);
            Map<String, Double> after = PrometheusText.parse(scrape.body());
            assertThat(value(after, "pivot_boots_started_total")).isEqualTo(1);
            assertThat(value(after, "pivot_boots_failed_total", "step=\"root_fetched\"")).isEqualTo(1);
            assertThat(value(after, "pivot_served_bytes_total", "protocol=\"tftp\"")).isEqualTo(68_000);
            assertThat(value(after, "pivot_dhcp_answers_total", "type=\"offer\"")).isEqualTo(1);
            assertThat(value(after, "pivot_tftp_transfers_total", "result=\"ok\"")).isEqualTo(1);
            assertThat(value(after, "pivot_boot_step_seconds_count", "step=\"stage1\"")).isEqualTo(1);
            // The process beside the boots: heap, threads, descriptors, uptime.
            assertThat(value(after, "jvm_memory_committed_bytes", "area=\"heap\""))
                    .isPositive();
            assertThat(value(after, "jvm_threads_live_threads")).isPositive();
            assertThat(value(after, "process_files_open_files")).isGreaterThan(3);
            assertThat(value(after, "process_uptime_seconds")).isPositive();
            assertThat(scrape.body()).contains("jvm_gc_").contains("process_cpu_usage");

        }
    }
}
