package dev.pivot.store;

import dev.pivot.history.BootSession;
import dev.pivot.boot.BootEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** An event acknowledged as durable by the event pipeline survives SIGKILL of the JVM that wrote it, mid-stream. */
class CrashDurabilityTest {

    private static final int ACKS_BEFORE_KILL = 300;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedEventSurvivesSigkill() throws Exception {
        Path db = dir.resolve("pivot.db");
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                EventWriterMain.class.getName(), db.toString())
                .redirectError(dir.resolve("child.err").toFile()).start();
        long acked = 0;
        long started = System.nanoTime();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("ack ")) {
                    acked = Long.parseLong(line.substring(4).trim());
                    if (acked >= ACKS_BEFORE_KILL) {
                        // destroyForcibly is SIGKILL on Linux: no shutdown hook, no close, no final flush.
                        child.destroyForcibly();
                        break;
                    }
                }
            }
        } finally {
            child.destroyForcibly();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        System.out.printf("crash test: %d events acknowledged in %.2f s (incl. JVM start and migration) before SIGKILL%n",
                acked, seconds);
        assertThat(acked).as("child acknowledged events before it was killed (see child.err)").isGreaterThanOrEqualTo(ACKS_BEFORE_KILL);
        assertThat(child.exitValue()).isEqualTo(128 + 9);

        try (JdbcStore store = JdbcStore.openSqlite(db)) {
            List<BootSession> sessions = store.sessions(Optional.empty(), Integer.MAX_VALUE);
            Set<String> recorded = new HashSet<>();
            sessions.forEach(s -> s.events().stream().map(BootEvent::detail).forEach(recorded::add));
            for (long n = 1; n <= acked; n++) {
                assertThat(recorded).as("acknowledged event %d", n).contains("event " + n);
            }
        }
    }
}
