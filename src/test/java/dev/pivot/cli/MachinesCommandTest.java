package dev.pivot.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How `pivot machines` renders times, addresses, profiles and its table. */
class MachinesCommandTest {

    private static final Instant NOW = Instant.parse("2026-11-25T10:00:00Z");

    @Test
    void timesAreHowLongAgo() {
        assertThat(MachinesCommand.ago("2026-11-25T09:59:58.500Z", NOW)).isEqualTo("just now");
        assertThat(MachinesCommand.ago("2026-11-25T10:00:03Z", NOW)).as("server clock ahead").isEqualTo("just now");
        assertThat(MachinesCommand.ago("2026-11-25T09:59:18Z", NOW)).isEqualTo("42 s ago");
        assertThat(MachinesCommand.ago("2026-11-25T09:57:00Z", NOW)).isEqualTo("3 min ago");
        assertThat(MachinesCommand.ago("2026-11-25T05:00:00Z", NOW)).isEqualTo("5 h ago");
        assertThat(MachinesCommand.ago("2026-11-20T10:00:00Z", NOW)).isEqualTo("5 days ago");
        assertThat(MachinesCommand.ago("", NOW)).isEqualTo("-");
    }

    @Test
    void theAddressIsTheLastEventsThatNamesOne() throws Exception {
        JsonNode session = ApiClient.parse("""
                {"events": [{"step": "dhcp", "address": "10.0.0.60"}, {"step": "tftp", "address": "10.0.0.61"},
                            {"step": "stage2", "address": null}]}""");
        assertThat(MachinesCommand.lastAddress(session)).isEqualTo("10.0.0.61");
        assertThat(MachinesCommand.lastAddress(ApiClient.parse("{\"events\": [{\"step\": \"dhcp\"}]}"))).isEqualTo("-");
    }

    @Test
    void theProfileSaysWhyUnlessItIsTheDefault() throws Exception {
        assertThat(MachinesCommand.profile(ApiClient.parse("{\"name\": \"rescue\", \"because\": \"assigned once\"}")))
                .isEqualTo("rescue (assigned once)");
        assertThat(MachinesCommand.profile(ApiClient.parse("{\"name\": \"demo\", \"because\": \"default\"}")))
                .isEqualTo("demo");
        assertThat(MachinesCommand.profile(ApiClient.parse("null"))).isEqualTo("-");
    }

    @Test
    void columnsAreAsWideAsTheirWidestCell() {
        assertThat(MachinesCommand.table(List.of(List.of("A", "B", "C"), List.of("long", "x", "last column"))))
                .containsExactly("A     B  C", "long  x  last column");
    }
}
