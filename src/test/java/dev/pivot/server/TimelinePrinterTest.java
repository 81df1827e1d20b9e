package dev.pivot.server;

import dev.pivot.history.BootSessions;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class TimelinePrinterTest {

    @Test
    void printsSecondsSinceTheBootBeganAndMarksFailures() {
        var buffer = new ByteArrayOutputStream();
        var printer = new TimelinePrinter(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        var sessions = new BootSessions();
        sessions.onEvent(printer::print);
        sessions.onEvent((s, e) -> printer.flush());
        MacAddress mac = MacAddress.parse("52:54:00:12:34:56");
        Instant t0 = Instant.parse("2026-11-25T10:00:00Z");

        sessions.emit(new BootEvent(t0, mac, Step.DHCP, false, "offer 10.77.0.50", 0));
        sessions.emit(new BootEvent(t0.plusMillis(12_300), mac, Step.KERNEL, false, "bzImage", 8_000_000));
        // stage 1's own DHCP belongs to the same boot: the clock keeps running
        sessions.emit(new BootEvent(t0.plusMillis(15_000), mac, Step.DHCP, false, "offer 10.77.0.50", 0));
        sessions.emit(new BootEvent(t0.plusMillis(20_000), mac, Step.ROOT_FETCHED, true, "sha256 mismatch", 0));

        String[] lines = buffer.toString(StandardCharsets.UTF_8).split("\n");
        assertThat(lines).hasSize(4);
        assertThat(lines[0]).contains("52:54:00:12:34:56", "+   0.0s", "dhcp", "offer 10.77.0.50");
        assertThat(lines[1]).contains("+  12.3s", "kernel", "bzImage", "(7.6 MiB)");
        assertThat(lines[2]).contains("+  15.0s", "dhcp");
        assertThat(lines[3]).contains("+  20.0s", "root_fetched", "FAILED: sha256 mismatch");
    }

    @Test
    void underSystemdTheJournalHasTheTimeAndJsonIsOneObjectPerLine() throws Exception {
        MacAddress mac = MacAddress.parse("52:54:00:12:34:56");
        Instant t0 = Instant.parse("2026-11-25T10:00:00Z");
        for (LogFormat format : LogFormat.values()) {
            var buffer = new ByteArrayOutputStream();
            var printer = new TimelinePrinter(new PrintStream(buffer, true, StandardCharsets.UTF_8), format);
            var sessions = new BootSessions();
            sessions.onEvent(printer::print);
            sessions.emit(new BootEvent(t0, mac, Step.DHCP, false, "offer 10.77.0.50", 0));
            sessions.emit(new BootEvent(t0.plusMillis(1_250), mac, Step.KERNEL, true, "said \"no\"\n\\", 42));
            printer.flush();
            String[] lines = buffer.toString(StandardCharsets.UTF_8).split("\n");
            assertThat(lines).hasSize(2);
            switch (format) {
                case TEXT -> assertThat(lines[1]).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3}  52:54:00:12:34:56  \\+   1\\.3s.*");
                case JOURNAL -> assertThat(lines[1]).startsWith("52:54:00:12:34:56  +   1.3s  kernel");
                case JSON -> {
                    var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines[1]);
                    assertThat(node.path("time").asText()).isEqualTo("2026-11-25T10:00:01.250Z");
                    assertThat(node.path("mac").asText()).isEqualTo("52:54:00:12:34:56");
                    assertThat(node.path("since").asDouble()).isEqualTo(1.25);
                    assertThat(node.path("step").asText()).isEqualTo("kernel");
                    assertThat(node.path("failed").asBoolean()).isTrue();
                    assertThat(node.path("detail").asText()).isEqualTo("said \"no\"\n\\");
                    assertThat(node.path("bytes").asLong()).isEqualTo(42);
                }
            }
        }
    }

    @Test
    void textIsWithoutTheTimeWhenStdoutIsTheJournal() {
        assertThat(LogFormat.of(null, java.util.Map.of())).isEqualTo(LogFormat.TEXT);
        assertThat(LogFormat.of("text", java.util.Map.of("JOURNAL_STREAM", "8:12345"))).isEqualTo(LogFormat.JOURNAL);
        assertThat(LogFormat.of("json", java.util.Map.of("JOURNAL_STREAM", "8:12345"))).isEqualTo(LogFormat.JSON);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> LogFormat.of("xml", java.util.Map.of()))
                .hasMessage("--log-format xml: expected text or json");
    }
}
