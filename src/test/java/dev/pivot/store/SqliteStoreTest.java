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

    /** Each emit commits (fsync'ed WAL) before it returns; the rate bounds how fast events can be acknowledged. */
    @Test
    void appendsCommitOneByOne() {
        try (JdbcStore store = JdbcStore.openSqlite(dir.resolve("pivot.db"))) {
            dev.pivot.boot.BootSessions sessions = new dev.pivot.boot.BootSessions(store);
            int n = 500;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sessions.emit(dev.pivot.events.BootEvent.ok(StoreContract.A, dev.pivot.events.Step.KERNEL, "e" + i, i));
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            System.out.printf("SQLite (WAL, synchronous=FULL): %d committed events in %.0f ms, %.2f ms each%n", n, ms,
                    ms / n);
            assertThat(store.sessions(java.util.Optional.empty(), 10).getFirst().events()).hasSize(n);
        }
    }

    @Test
    void keepsAssignments() {
        StoreContract.keepsAssignments(() -> JdbcStore.openSqlite(dir.resolve("pivot.db")));
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
                assertThat(versions).containsExactly("1", "2");
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
