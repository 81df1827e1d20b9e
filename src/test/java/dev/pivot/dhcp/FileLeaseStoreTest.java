package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileLeaseStoreTest {

    private static final MacAddress A = MacAddress.parse("52:54:00:00:00:0a");
    private static final MacAddress B = MacAddress.parse("52:54:00:00:00:0b");

    @TempDir
    Path dir;

    @Test
    void aRestartedServerKeepsLeasesAndNeverGivesALiveOneAway() throws Exception {
        Path file = dir.resolve("leases.txt");
        Clock clock = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
        DhcpConfig.Pool pool = new DhcpConfig.Pool(Ipv4.parse("10.77.0.50"), Ipv4.parse("10.77.0.51"), 24);
        LeasePool before = new LeasePool(pool, Ipv4.parse("10.77.0.1"), new FileLeaseStore(file), clock);
        before.bind(A, before.offer(A, java.util.Optional.empty()).orElseThrow());

        LeasePool after = new LeasePool(pool, Ipv4.parse("10.77.0.1"), new FileLeaseStore(file), clock);

        assertThat(after.leaseOf(A)).hasValueSatisfying(l -> {
            assertThat(l.address()).isEqualTo(Ipv4.parse("10.77.0.50"));
            assertThat(l.state()).isEqualTo(Lease.State.BOUND);
        });
        assertThat(after.offer(B, java.util.Optional.of(Ipv4.parse("10.77.0.50")))).contains(Ipv4.parse("10.77.0.51"));
        assertThat(Files.readString(file)).contains("10.77.0.50 52:54:00:00:00:0a 2026-01-01T01:00:00Z BOUND");
    }

    @Test
    void aMalformedLineNamesFileAndLine() throws Exception {
        Path file = dir.resolve("leases.txt");
        Files.writeString(file, "# comment\n10.77.0.50 52:54:00:00:00:0a yesterday BOUND\n");

        assertThatThrownBy(() -> new FileLeaseStore(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("leases.txt line 2");
    }
}
