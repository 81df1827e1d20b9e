package dev.pivot.store;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The same store contract as SQLite, against a private cluster of Debian's PostgreSQL. */
class PostgresStoreIT {

    @Test
    void recordsSessionsAndMachinesOnPostgres() throws Exception {
        Optional<Path> bin = PostgresCluster.binDir();
        Assumptions.assumeTrue(bin.isPresent(), "needs Debian's postgresql package (/usr/lib/postgresql/*/bin)");
        Assumptions.assumeTrue(!PostgresCluster.isRoot() || Files.isExecutable(Path.of("/usr/sbin/runuser")),
                "as root, needs runuser to start postgres as the postgres user");
        PostgresCluster started;
        try {
            started = PostgresCluster.start(bin.get());
        } catch (java.io.IOException e) {
            Assumptions.abort("could not start a private PostgreSQL cluster: " + e.getMessage());
            return;
        }
        try (PostgresCluster pg = started) {
            StoreContract.recordsSessionsAndMachines(() -> JdbcStore.open(pg.url(), "pivot", ""));
            StoreContract.keepsAssignments(() -> JdbcStore.open(pg.url(), "pivot", ""));
        }
    }
}
