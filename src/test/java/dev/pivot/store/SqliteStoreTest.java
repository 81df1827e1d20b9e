package dev.pivot.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SqliteStoreTest {

    @TempDir
    Path dir;

    @Test
    void recordsSessionsAndMachinesAcrossReopen() {
        StoreContract.recordsSessionsAndMachines(() -> JdbcStore.openSqlite(dir.resolve("pivot.db")));
    }

    /** Events emitted faster than one fsync each are committed in batches, every one of them, in order. */
    @Test
    void eventsAreCommittedInBatchesInOrder() throws Exception {
        try (JdbcStore store = JdbcStore.openSqlite(dir.resolve("pivot.db"))) {
            var pipeline = dev.pivot.history.EventPipeline.over(store, 1024);
            int n = 200;
            for (int i = 0; i < n; i++) {
                pipeline.emit(dev.pivot.boot.BootEvent.ok(StoreContract.A, dev.pivot.boot.Step.KERNEL, "e" + i, i));
            }
            StoreContract.recorded(pipeline);
            var events = store.sessions(java.util.Optional.empty(), 10).getFirst().events();
            assertThat(events).hasSize(n);
            assertThat(events).extracting(dev.pivot.boot.BootEvent::detail).startsWith("e0", "e1", "e2").endsWith("e199");
            assertThat(pipeline.lost()).isZero();
        }
    }

    @Test
    void keepsAssignments() {
        StoreContract.keepsAssignments(() -> JdbcStore.openSqlite(dir.resolve("pivot.db")));
    }

    @Test
    void keepsGenerations() {
        StoreContract.keepsGenerations(() -> JdbcStore.openSqlite(dir.resolve("generations.db")));
    }

    @Test
    void sharesOneBootKey() {
        StoreContract.sharesOneBootKey(() -> JdbcStore.openSqlite(dir.resolve("key.db")));
    }

    @Test
    void databaseIsInWalModeAndMigrated() throws Exception {
        Path file = dir.resolve("state/pivot.db");
        JdbcStore.openSqlite(file).close();
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            try (ResultSet r = s.executeQuery("PRAGMA journal_mode")) {
                r.next();
                assertThat(r.getString(1)).isEqualToIgnoringCase("wal");
            }
            try (ResultSet r = s.executeQuery(
                    "SELECT version FROM flyway_schema_history WHERE success = 1 ORDER BY installed_rank")) {
                java.util.List<String> versions = new java.util.ArrayList<>();
                while (r.next()) {
                    versions.add(r.getString(1));
                }
                assertThat(versions).containsExactly("1", "2", "3", "5", "7", "9", "10");
            }
        }
    }

    @Test
    void anUnsupportedDatabaseUrlIsNamed() {
        assertThatThrownBy(() -> JdbcStore.open("jdbc:mysql://db/pivot", null, null))
                .hasMessage("database jdbc:mysql://db/pivot: expected a jdbc:postgresql: or jdbc:sqlite: URL");
        assertThatThrownBy(() -> JdbcStore.open("jdbc:postgresql://127.0.0.1:1/none", "x", ""))
                .isInstanceOf(StoreException.class).hasMessageContaining("jdbc:postgresql://127.0.0.1:1/none");
    }

    @Test
    void aFileThatIsNotADatabaseIsNamedInTheError() throws Exception {
        Path file = dir.resolve("pivot.db");
        Files.writeString(file, "this is not a database, it is a text file that is long enough to have a header");
        assertThatThrownBy(() -> JdbcStore.openSqlite(file)).isInstanceOf(StoreException.class)
                .hasMessageContaining(file.toString());
    }
}
