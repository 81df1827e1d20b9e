package dev.pivot.boot;

import java.util.List;
import java.util.Optional;

/**
 * The durable history of boots. {@link BootSessions} appends every event here before anyone else hears of it, so
 * an event that was acknowledged (a 200 to a stage-1 report, a line on the timeline) survives a crash.
 */
public interface EventLog {

    /**
     * Records the last event of {@code session} (the session as it is with that event added) and marks its
     * machine as seen; returns only once that is committed. Throws when it could not be recorded.
     */
    void append(BootSession session);

    /** The highest session id recorded, 0 when none: new sessions continue after it. */
    long lastSessionId();

    /** The newest sessions first, of one machine or of all; at most {@code limit}. */
    List<BootSession> sessions(Optional<MacAddress> mac, int limit);

    Optional<BootSession> session(long id);
}
