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
        FileLeaseStore store = new FileLeaseStore(file);
        LeasePool before = new LeasePool(pool, Ipv4.parse("10.77.0.1"), store, clock);
        before.bind(A, before.offer(A, java.util.Optional.empty()).orElseThrow());
        store.sync(); // what the server does before it sends the ACK

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

    @Test
    void theJournalReplaysInOrderAndToleratesOnlyATornLastLine() throws Exception {
        Path file = dir.resolve("leases.txt");
        Files.writeString(file, """
                10.77.0.50 52:54:00:00:00:0a 2026-01-01T01:00:00Z BOUND
                10.77.0.51 52:54:00:00:00:0b 2026-01-01T01:00:00Z BOUND
                - 10.77.0.50
                10.77.0.52 52:54:00:00:00:0b 2026-01-01T02:00:00Z BOUND
                10.77.0.53 52:54:00:00:0""");

        FileLeaseStore store = new FileLeaseStore(file);

        assertThat(store.byAddress(Ipv4.parse("10.77.0.50"))).isEmpty();
        assertThat(store.byMac(B)).hasValueSatisfying(l -> assertThat(l.address()).isEqualTo(Ipv4.parse("10.77.0.52")));
        assertThat(store.all()).hasSize(1);
        // Opening compacts: one line per live lease, the torn line gone.
        assertThat(Files.readString(file).lines().filter(l -> !l.startsWith("#")))
                .containsExactly("10.77.0.52 52:54:00:00:00:0b 2026-01-01T02:00:00Z BOUND");
    }

    @Test
    void changesAreAppendedAndSurviveAReopenAfterSync() throws Exception {
        Path file = dir.resolve("leases.txt");
        FileLeaseStore store = new FileLeaseStore(file);
        store.put(new Lease(Ipv4.parse("10.77.0.50"), A, Instant.parse("2026-01-01T01:00:00Z"), Lease.State.BOUND));
        store.put(new Lease(Ipv4.parse("10.77.0.51"), B, Instant.parse("2026-01-01T01:00:00Z"), Lease.State.OFFERED));
        store.remove(Ipv4.parse("10.77.0.51"));
        store.sync();

        assertThat(Files.readString(file)).contains("10.77.0.50 52:54:00:00:00:0a", "- 10.77.0.51");
        FileLeaseStore reopened = new FileLeaseStore(file);
        assertThat(reopened.all()).extracting(Lease::address).containsExactly(Ipv4.parse("10.77.0.50"));
    }

    @Test
    void aGrownJournalIsCompactedBySyncNotByTheAppendThatGrewIt() throws Exception {
        Path file = dir.resolve("leases.txt");
        Instant expires = Instant.parse("2026-01-01T01:00:00Z");
        try (FileLeaseStore store = new FileLeaseStore(file)) {
            Lease lease = new Lease(Ipv4.parse("10.77.0.50"), A, expires, Lease.State.BOUND);
            for (int i = 0; i < 5000; i++) {
                store.put(lease);   // the same lease renewed 5000 times: 5000 journal lines, one live lease
            }
            long linesBeforeSync = Files.readAllLines(file).size();
            assertThat(linesBeforeSync).as("appends never touch the file: the receive loop never waits for a disk")
                    .isEqualTo(1);

            store.sync();

            assertThat(Files.readAllLines(file)).containsExactly(
                    Files.readAllLines(file).getFirst(), "10.77.0.50 52:54:00:00:00:0a 2026-01-01T01:00:00Z BOUND");
            store.put(new Lease(Ipv4.parse("10.77.0.51"), B, expires, Lease.State.BOUND));
            store.sync();
        }
        try (FileLeaseStore reopened = new FileLeaseStore(file)) {
            assertThat(reopened.all()).extracting(Lease::mac).containsExactlyInAnyOrder(A, B);
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).as("no temp file left").containsExactly(
                    "leases.txt");
        }
    }
}
