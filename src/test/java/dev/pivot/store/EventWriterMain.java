package dev.pivot.store;

import dev.pivot.history.EventPipeline;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;

import java.nio.file.Path;

/**
 * A child JVM for {@link CrashDurabilityTest}: appends events to the SQLite file in args[0] without end, printing
 * "ack N" only after event N is durable (as a stage-1 report's 200 waits), until it is killed. Many events are
 * in flight at once, so they are committed in batches, as `pivot serve` commits them.
 */
public final class EventWriterMain {

    private static synchronized void ack(long n) {
        System.out.println("ack " + n);
        System.out.flush();
    }

    public static void main(String[] args) throws InterruptedException {
        JdbcStore store = JdbcStore.openSqlite(Path.of(args[0]));
        EventPipeline sessions = EventPipeline.over(store, 4096);
        Step[] steps = Step.values();
        for (long n = 1; ; n++) {
            MacAddress mac = MacAddress.parse(String.format("52:54:00:00:01:%02x", n % 3));
            long id = n;
            sessions.emitDurably(BootEvent.ok(mac, steps[(int) (1 + n % (steps.length - 2))], "event " + n, n))
                    .thenRun(() -> ack(id));
            if (n % 64 == 0) {
                sessions.flush(java.time.Duration.ofSeconds(30));
            }
        }
    }
}
