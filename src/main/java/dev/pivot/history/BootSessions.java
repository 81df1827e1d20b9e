package dev.pivot.history;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.EventSink;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;

/**
 * Cuts each machine's events into sessions, in memory. A new session starts when a machine's firmware asks DHCP
 * again after its last boot finished (handed over, stage 2, a failure, or stalled), or after a long silence;
 * otherwise events join the open session. A plain client's DHCP (the booted OS's lease) never starts one.
 *
 * <p>Memory is bounded: the most recently active machines only, a few sessions each, a cap on events per
 * session. Older history lives in the {@link EventLog}; nothing here reads it on the way of an event.
 */
public final class BootSessions implements EventSink {

    /** A machine silent this long is taken to have started over. */
    static final Duration IDLE = Duration.ofMinutes(10);

    /** How much is kept in memory. */
    public record Limits(int machines, int sessionsPerMachine, int eventsPerSession) {
        public static final Limits DEFAULT = new Limits(20_000, 3, 256);
    }

    /** An event placed in its session: the session as it is with the event, and the event's place in it. */
    public record Cut(BootSession session, int seq, BootEvent event) {
    }

    private final Limits limits;
    private final Map<MacAddress, List<BootSession>> byMac;
    private final List<BiConsumer<BootSession, BootEvent>> listeners = new CopyOnWriteArrayList<>();
    private long nextId;
    private final int stride;
    private long dropped;

    /** Sessions in memory only, numbered from 1. */
    public BootSessions() {
        this(0, List.of(), Limits.DEFAULT);
    }

    /**
     * @param lastId the highest session id already recorded: new sessions continue after it
     * @param recent sessions recorded before a restart that may still be open, oldest first
     */
    public BootSessions(long lastId, List<BootSession> recent, Limits limits) {
        this(lastId, recent, limits, 1, 0);
    }

    /**
     * Sessions numbered apart from other servers writing the same store: this server's ids are the ones equal to
     * {@code slot} modulo {@code stride} (each server has its own slot), so two servers never number two sessions
     * alike.
     */
    public BootSessions(long lastId, List<BootSession> recent, Limits limits, int stride, int slot) {
        if (stride < 1 || slot < 0 || slot >= stride) {
            throw new IllegalArgumentException("session id slot " + slot + " of " + stride);
        }
        this.limits = limits;
        this.stride = stride;
        long next = lastId + 1;
        this.nextId = next + Math.floorMod(slot - next, (long) stride);
        this.byMac = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<MacAddress, List<BootSession>> eldest) {
                return size() > limits.machines();
            }
        };
        for (BootSession s : recent) {
            keep(byMac.computeIfAbsent(s.mac(), m -> new ArrayList<>()), s, true);
        }
    }

    /** Places {@code event} in its session; empty when the session already holds as many events as it may. */
    public synchronized Optional<Cut> cut(BootEvent event) {
        List<BootSession> sessions = byMac.computeIfAbsent(event.mac(), m -> new ArrayList<>());
        BootSession open = sessions.isEmpty() ? null : sessions.getLast();
        if (open == null || startsNewSession(open, event)) {
            BootSession started = new BootSession(nextId, event.mac(), List.of(event));
            nextId += stride;
            keep(sessions, started, true);
            return Optional.of(new Cut(started, 1, event));
        }
        if (open.events().size() >= limits.eventsPerSession()) {
            dropped++;
            return Optional.empty();
        }
        List<BootEvent> events = new ArrayList<>(open.events().size() + 1);
        events.addAll(open.events());
        events.add(event);
        BootSession updated = new BootSession(open.id(), open.mac(), events);
        keep(sessions, updated, false);
        return Optional.of(new Cut(updated, events.size(), event));
    }

    /**
     * Marks every machine's open session stalled whose last event is older than its step's deadline: appends a
     * {@link Step#STALLED} event to each, in one pass under the lock (so no event slips in between the check and
     * the mark), and returns them for recording. A full session is left as it is.
     */
    public synchronized List<Cut> cutStalls(Instant now, StallDeadlines deadlines) {
        return cutStalls(now, deadlines, last -> false);
    }

    /**
     * As above; a session whose last event {@code ended} says is the last a boot sends (the last file of a boot with no
     * stage 1 of Pivot's) gets Pivot's {@link Step#HANDOVER} instead, at that event's time, and rests. A plain
     * client's DHCP (its OS renewing) sets no deadline: the boot step before it does.
     */
    public synchronized List<Cut> cutStalls(Instant now, StallDeadlines deadlines,
                                            java.util.function.Predicate<BootEvent> ended) {
        List<Cut> out = new ArrayList<>();
        for (List<BootSession> sessions : byMac.values()) {
            BootSession open = sessions.getLast();
            if (open.finished() || open.events().size() >= limits.eventsPerSession()) {
                continue;
            }
            Optional<BootEvent> step = open.events().reversed().stream().filter(e -> !e.plainDhcp()).findFirst();
            if (step.isEmpty()) {
                continue;
            }
            BootEvent last = step.get();
            BootEvent mark;
            if (ended.test(last)) {
                mark = new BootEvent(last.at(), open.mac(), Step.HANDOVER, false,
                        "the last file went out: the kernel boots on without Pivot's stage 1, which would report", 0);
            } else {
                Optional<Duration> deadline = deadlines.after(last.step());
                if (deadline.isEmpty() || Duration.between(last.at(), now).compareTo(deadline.get()) <= 0) {
                    continue;
                }
                mark = new BootEvent(now, open.mac(), Step.STALLED, false,
                        "no next event within " + deadline.get().toSeconds() + " s after " + last.step().wire(), 0);
            }
            List<BootEvent> events = new ArrayList<>(open.events());
            events.add(mark);
            BootSession updated = new BootSession(open.id(), open.mac(), events);
            keep(sessions, updated, false);
            out.add(new Cut(updated, events.size(), mark));
        }
        return out;
    }

    private void keep(List<BootSession> sessions, BootSession session, boolean isNew) {
        if (isNew) {
            sessions.add(session);
            while (sessions.size() > limits.sessionsPerMachine()) {
                sessions.removeFirst();
            }
        } else {
            sessions.set(sessions.size() - 1, session);
        }
    }

    private static boolean startsNewSession(BootSession open, BootEvent event) {
        if (event.plainDhcp()) {
            return false; // an OS taking or renewing its lease belongs to the boot that started it
        }
        BootEvent last = open.events().getLast();
        boolean idle = Duration.between(last.at(), event.at()).compareTo(IDLE) > 0;
        boolean restarted = open.finished() && event.step() == Step.DHCP;
        return idle || restarted;
    }

    /** Cuts the event and tells the listeners at once, on this thread: for tools and tests without a store. */
    @Override
    public void emit(BootEvent event) {
        cut(event).ifPresent(c -> listeners.forEach(l -> l.accept(c.session(), c.event())));
    }

    /** Called by {@link #emit} for every event with the session it joined. */
    public void onEvent(BiConsumer<BootSession, BootEvent> listener) {
        listeners.add(listener);
    }

    public synchronized Optional<BootSession> latest(MacAddress mac) {
        List<BootSession> sessions = byMac.get(mac);
        return sessions == null || sessions.isEmpty() ? Optional.empty() : Optional.of(sessions.getLast());
    }

    /** Every session held in memory, oldest machine first. */
    public synchronized List<BootSession> all() {
        return byMac.values().stream().flatMap(List::stream).toList();
    }

    /** Events refused because their session was full. */
    public synchronized long dropped() {
        return dropped;
    }
}
