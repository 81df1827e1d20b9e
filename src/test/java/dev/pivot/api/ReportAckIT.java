package dev.pivot.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A stage-1 report is acknowledged (200) only when its event was committed. */
class ReportAckIT {

    @TempDir
    Path dir;

    @Test
    void reportIsRefusedWhenTheDatabaseCannotRecordIt() throws Exception {
        try (ApiServer server = new ApiServer(dir)) {
            String report = server.base + "/report?mac=52:54:00:12:34:09&step=stage1&status=ok";
            assertThat(CurlRun.run(report).status()).isEqualTo(200);
            server.store.close(); // the database goes away under the running server
            CurlRun refused = CurlRun.run(report);
            assertThat(refused.status()).isEqualTo(500);
        }
    }
}
