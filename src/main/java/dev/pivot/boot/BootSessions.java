package dev.pivot.boot;

import dev.pivot.events.BootEvent;
import dev.pivot.events.EventSink;
import dev.pivot.events.Step;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * Records every boot event per machine and cuts them into sessions. A new session starts when a machine asks
 * DHCP again after its last boot finished, or after a long silence; otherwise events join the open session.
 */
public final class BootSessions implements EventSink {

    /** A machine silent this long is taken to have started over. */
    private static final Duration IDLE = Duration.ofMinutes(10);

    private final Map<MacAddress, List<BootSession>> byMac = new HashMap<>();
    private final List<BiConsumer<BootSession, BootEvent>> listeners = new CopyOnWriteArrayList<>();
    private final Optional<EventLog> log;
    private long nextId;

    /** Sessions kept in memory only. */
    public BootSessions() {
        this.log = Optional.empty();
        this.nextId = 1;
    }

    /** Every event is committed to {@code log} before it counts; ids and open sessions continue from it. */
    public BootSessions(EventLog log) {
        this.log = Optional.of(log);
        this.nextId = log.lastSessionId() + 1;
    }

    /** Throws, recording nothing and telling no listener, when the event log cannot commit the event. */
    @Override
    public void emit(BootEvent event) {
        BootSession updated;
        synchronized (this) {
            List<BootSession> sessions = byMac.computeIfAbsent(event.mac(), this::recorded);
            BootSession open = sessions.isEmpty() ? null : sessions.getLast();
            if (open == null || startsNewSession(open, event)) {
                updated = new BootSession(nextId, event.mac(), List.of(event));
            } else {
                List<BootEvent> events = new ArrayList<>(open.events());
                events.add(event);
                updated = new BootSession(open.id(), open.mac(), events);
            }
            BootSession toRecord = updated;
            log.ifPresent(l -> l.append(toRecord));
            if (updated.id() == nextId) {
                nextId++;
                sessions.add(updated);
            } else {
                sessions.set(sessions.size() - 1, updated);
            }
        }
        BootSession joined = updated;
        listeners.forEach(l -> l.accept(joined, event));
    }

    /** After a restart a machine's open session continues from the log. */
    private List<BootSession> recorded(MacAddress mac) {
        return new ArrayList<>(log.map(l -> l.sessions(Optional.of(mac), 1)).orElse(List.of()));
    }

    private static boolean startsNewSession(BootSession open, BootEvent event) {
        BootEvent last = open.events().getLast();
        boolean idle = Duration.between(last.at(), event.at()).compareTo(IDLE) > 0;
        boolean restarted = open.finished() && event.step() == Step.DHCP;
        return idle || restarted;
    }

    /** Called for every event after it is recorded, with the session it joined, on the emitting thread. */
    public void onEvent(BiConsumer<BootSession, BootEvent> listener) {
        listeners.add(listener);
    }

    public synchronized Optional<BootSession> latest(MacAddress mac) {
        List<BootSession> sessions = byMac.get(mac);
        return sessions == null || sessions.isEmpty() ? Optional.empty() : Optional.of(sessions.getLast());
    }

    public synchronized List<BootSession> all() {
        return byMac.values().stream().flatMap(List::stream).toList();
    }
}
