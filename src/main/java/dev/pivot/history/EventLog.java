package dev.pivot.history;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.MacAddress;

import java.util.List;
import java.util.Optional;

/**
 * The durable history of boots (a store port). {@link EventPipeline} appends events here in batches from one
 * writer thread, never from a protocol thread.
 */
public interface EventLog {

    /** One event as it is stored: its session and its place in it (1 = the session's first event). */
    record Entry(long sessionId, int seq, BootEvent event) {
    }

    /**
     * Records every entry in one transaction (one fsync), creating sessions and marking machines seen; returns
     * once committed. Appending an entry that is already stored changes nothing, so a batch can be retried.
     * Throws when the batch could not be recorded.
     */
    void append(List<Entry> batch);

    /** The highest session id recorded, 0 when none: new sessions continue after it. */
    long lastSessionId();

    /** The newest sessions first, of one machine or of all; at most {@code limit}. */
    List<BootSession> sessions(Optional<MacAddress> mac, int limit);

    /** One page of {@link #sessions(Optional, int)}: {@code limit} sessions from the {@code offset}-th newest. */
    default List<BootSession> sessions(Optional<MacAddress> mac, int offset, int limit) {
        return sessions(mac, (int) Math.min(Integer.MAX_VALUE, (long) offset + limit)).stream().skip(offset).toList();
    }

    Optional<BootSession> session(long id);
}
