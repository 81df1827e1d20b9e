package dev.pivot.store;

import dev.pivot.boot.BootSessions;
import dev.pivot.boot.MacAddress;
import dev.pivot.events.BootEvent;
import dev.pivot.events.Step;

import java.nio.file.Path;

/**
 * A child JVM for {@link CrashDurabilityTest}: appends events to the SQLite file in args[0] without end, printing
 * "ack N" only after event N's emit returned, until it is killed.
 */
public final class EventWriterMain {

    public static void main(String[] args) {
        JdbcStore store = JdbcStore.openSqlite(Path.of(args[0]));
        BootSessions sessions = new BootSessions(store);
        Step[] steps = Step.values();
        for (long n = 1; ; n++) {
            MacAddress mac = MacAddress.parse(String.format("52:54:00:00:01:%02x", n % 3));
            sessions.emit(BootEvent.ok(mac, steps[(int) (1 + n % (steps.length - 2))], "event " + n, n));
            System.out.println("ack " + n);
            System.out.flush();
        }
    }
}
