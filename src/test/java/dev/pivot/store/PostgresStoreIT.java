package dev.pivot.store;

import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Optional;

/** The same store contract as SQLite, against a private cluster of Debian's PostgreSQL. */
class PostgresStoreIT {

    @Test
    void recordsSessionsAndMachinesOnPostgres() throws Exception {
        Optional<Path> bin = PostgresCluster.binDir();
        if (bin.isEmpty()) {
            Assertions.fail("no /usr/lib/postgresql/*/bin/postgres (Debian package postgresql)");
        }
        if (Require.isRoot()) {
            Require.command("runuser"); // as root, postgres runs as the postgres user
        }
        try (PostgresCluster pg = PostgresCluster.start(bin.get())) {
            StoreContract.recordsSessionsAndMachines(() -> JdbcStore.open(pg.url(), "pivot", ""));
            StoreContract.keepsAssignments(() -> JdbcStore.open(pg.url(), "pivot", ""));
            StoreContract.keepsGenerations(() -> JdbcStore.open(pg.url(), "pivot", ""));
            StoreContract.sharesOneBootKey(() -> JdbcStore.open(pg.url(), "pivot", ""));
        }
    }
}
