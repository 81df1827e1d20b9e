package dev.pivot.api;

import dev.pivot.history.BootSessions;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;

import static dev.pivot.api.PrometheusText.value;
import static org.assertj.core.api.Assertions.assertThat;

class BootMetricsTest {

    static final MacAddress A = MacAddress.parse("52:54:00:00:00:0a");
    static final MacAddress B = MacAddress.parse("52:54:00:00:00:0b");
    static final Instant T0 = Instant.parse("2026-11-25T10:00:00Z");

    static BootEvent ev(double s, MacAddress mac, Step step, boolean failed, String detail, long bytes) {
        return new BootEvent(T0.plusMillis((long) (s * 1000)), mac, step, failed, detail, bytes);
    }

    @Test
    void countsBootsBytesAnswersTransfersAndStepTimesFromEventsAlone() {
        BootSessions sessions = new BootSessions();
        BootMetrics metrics = new BootMetrics();
        sessions.onEvent(metrics::record);

        sessions.emit(ev(0, A, Step.DHCP, false, "offer 10.0.0.100 → undionly.kpxe", 0).withDhcp(BootEvent.DhcpAnswer.OFFER));
        sessions.emit(ev(0.1, A, Step.DHCP, false, "ack 10.0.0.100 → undionly.kpxe", 0).withDhcp(BootEvent.DhcpAnswer.ACK));
        sessions.emit(ev(0.5, A, Step.TFTP, false, "undionly.kpxe", 70_000));
        sessions.emit(ev(1.5, A, Step.KERNEL, false, "bzImage", 10_000_000));
        sessions.emit(ev(3, A, Step.STAGE2, false, "", 0));
        sessions.emit(ev(0, B, Step.DHCP, false, "proxy offer ipxe.efi", 0).withDhcp(BootEvent.DhcpAnswer.PROXY_OFFER));
        sessions.emit(ev(0.2, B, Step.TFTP, true, "ipxe.efi: timeout", 0));
        sessions.emit(ev(9, B, Step.NETWORK, true, "no carrier", 0)); // a second failure of a failed boot

        Map<String, Double> m = PrometheusText.parse(metrics.scrape());
        assertThat(value(m, "pivot_boots_started_total")).isEqualTo(2);
        assertThat(value(m, "pivot_boots_succeeded_total")).isEqualTo(1);
        assertThat(value(m, "pivot_boots_failed_total", "step=\"tftp\"")).isEqualTo(1);
        assertThat(value(m, "pivot_boots_failed_total", "step=\"network\"")).isZero();
        assertThat(value(m, "pivot_served_bytes_total", "protocol=\"tftp\"")).isEqualTo(70_000);
        assertThat(value(m, "pivot_served_bytes_total", "protocol=\"http\"")).isEqualTo(10_000_000);
        assertThat(value(m, "pivot_dhcp_answers_total", "type=\"offer\"")).isEqualTo(1);
        assertThat(value(m, "pivot_dhcp_answers_total", "type=\"ack\"")).isEqualTo(1);
        assertThat(value(m, "pivot_dhcp_answers_total", "type=\"proxy_offer\"")).isEqualTo(1);
        assertThat(value(m, "pivot_tftp_transfers_total", "result=\"ok\"")).isEqualTo(1);
        assertThat(value(m, "pivot_tftp_transfers_total", "result=\"failed\"")).isEqualTo(1);
        assertThat(value(m, "pivot_boot_step_seconds_count", "step=\"stage2\"")).isEqualTo(1);
        assertThat(value(m, "pivot_boot_step_seconds_sum", "step=\"stage2\"")).isEqualTo(3.0);
        assertThat(value(m, "pivot_boot_step_seconds_bucket", "step=\"kernel\"", "le=\"2.0\"")).isEqualTo(1);
        assertThat(value(m, "pivot_boot_step_seconds_bucket", "step=\"kernel\"", "le=\"1.0\"")).isZero();
    }

    @Test
    void dhcpAnswersAreCountedByTheirTypedKind() {
        BootMetrics metrics = new BootMetrics();
        BootSessions sessions = new BootSessions();
        sessions.onEvent(metrics::record);
        sessions.emit(BootEvent.ok(A, Step.DHCP, "proxy ack ipxe.efi", 0).withDhcp(BootEvent.DhcpAnswer.PROXY_ACK));
        sessions.emit(BootEvent.ok(A, Step.DHCP, "words that say offer", 0));
        String m = metrics.scrape();
        assertThat(value(PrometheusText.parse(m), "pivot_dhcp_answers_total", "type=\"proxy_ack\"")).isEqualTo(1);
        assertThat(m).doesNotContain("type=\"offer\"");
    }
}
