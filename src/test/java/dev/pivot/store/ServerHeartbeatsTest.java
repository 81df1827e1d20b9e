package dev.pivot.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class ServerHeartbeatsTest {

    @TempDir
    Path dir;

    /** What runs after each beat runs beat after beat on the heartbeat's thread, even after a task of it failed. */
    @Test
    void tasksRunAfterEachBeatAndAFailingOneStopsNothing() throws Exception {
        Path db = dir.resolve("pivot.db");
        try (JdbcStore store = JdbcStore.openSqlite(db);
             ServerHeartbeats beats = ServerHeartbeats.join("jdbc:sqlite:" + db, "alpha", Clock.systemUTC())) {
            AtomicInteger failing = new AtomicInteger();
            CountDownLatch three = new CountDownLatch(3);
            AtomicReference<String> thread = new AtomicReference<>();
            beats.afterEachBeat(() -> {
                failing.incrementAndGet();
                throw new IllegalStateException("a task that fails");
            });
            beats.afterEachBeat(() -> {
                thread.set(Thread.currentThread().getName());
                assertThat(beats.live()).extracting(ServerHeartbeats.Server::name).containsExactly("alpha");
                three.countDown();
            });
            beats.start("http://127.0.0.1:1/");
            assertThat(three.await(10, TimeUnit.SECONDS)).as("three beats, each followed by the tasks").isTrue();
            assertThat(failing.get()).isGreaterThanOrEqualTo(3);
            assertThat(thread.get()).isEqualTo("heartbeat");
            assertThat(beats.storeUp()).isTrue();
        }
    }
}
