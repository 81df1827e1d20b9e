package dev.pivot.history;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.EventSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * The event pipeline between the protocol servers and everything that consumes their events. {@link #emit} cuts
 * the event into its session in memory and queues it, and returns: it never waits for a disk and never throws.
 * Two threads take it from there, each from its own bounded queue:
 * <ul>
 *   <li>the writer commits what has queued up to the {@link EventLog} in one transaction (group commit: one fsync
 *   per batch however many events), retrying a failed batch before giving its events up as lost;</li>
 *   <li>the dispatcher tells the listeners (console timeline, metrics, live stream, once-assignments).</li>
 * </ul>
 * A full queue loses the event for that consumer and counts it; {@link #emitDurably} lets a stage-1 report wait
 * for its batch's commit, not for a private fsync.
 */
public final class EventPipeline implements EventSink, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EventPipeline.class);
    private static final Duration LOSS_LOG_INTERVAL = Duration.ofMinutes(1);
    private static final int MAX_BATCH = 4096;
    private static final int ATTEMPTS = 3;
    private static final int RESUMED_SESSIONS = 1000;
    private static final Duration STALL_CHECK_EVERY = Duration.ofSeconds(1);

    /** An event for the writer, with whoever waits for it to be durable. */
    private record Pending(EventLog.Entry entry, CompletableFuture<Void> durable) {
    }

    private record Dispatch(BootSession session, BootEvent event) {
    }

    private final BootSessions sessions;
    private final Optional<EventLog> store;
    private final BlockingQueue<Pending> toStore;
    private final BlockingQueue<Dispatch> toListeners;
    private final List<BiConsumer<BootSession, BootEvent>> listeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> idleHooks = new CopyOnWriteArrayList<>();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong stored = new AtomicLong();
    /** Events the writer took but could not record. */
    private final AtomicLong abandoned = new AtomicLong();
    private final AtomicLong enqueued = new AtomicLong();
    private final AtomicLong dispatched = new AtomicLong();
    private final AtomicLong offeredToListeners = new AtomicLong();
    private final Thread writer;
    private final Thread dispatcher;
    private volatile boolean running = true;
    private volatile boolean storeFailing;
    private volatile long lossLoggedAt;
    private long lossLoggedCount;

    /**
     * @param store    where events are kept; empty to keep them in memory only
     * @param capacity events each queue holds before new ones are lost
     */
    public EventPipeline(BootSessions sessions, Optional<EventLog> store, int capacity) {
        this.sessions = sessions;
        this.store = store;
        this.toStore = new ArrayBlockingQueue<>(capacity);
        this.toListeners = new ArrayBlockingQueue<>(capacity);
        this.writer = Thread.ofPlatform().name("events-writer").daemon().unstarted(this::writeLoop);
        this.dispatcher = Thread.ofPlatform().name("events-dispatcher").daemon().unstarted(this::dispatchLoop);
        if (store.isPresent()) {
            writer.start();
        }
        dispatcher.start();
    }

    /** A pipeline over {@code store}: session ids continue after the last one recorded, and so do open sessions. */
    public static EventPipeline over(EventLog store, int capacity) {
        return over(store, capacity, 1, 0);
    }

    /**
     * As above, for a store other servers write too: this server numbers its sessions in its own slot (see
     * {@link BootSessions}) and continues only sessions it numbered itself.
     */
    public static EventPipeline over(EventLog store, int capacity, int stride, int slot) {
        // The newest sessions, oldest first: each machine's last one continues if its next event comes soon enough.
        List<BootSession> recent = new ArrayList<>(store.sessions(Optional.empty(), RESUMED_SESSIONS)).reversed();
        recent.removeIf(s -> Math.floorMod(s.id(), (long) stride) != slot);
        return new EventPipeline(new BootSessions(store.lastSessionId(), recent, BootSessions.Limits.DEFAULT,
                stride, slot), Optional.of(store), capacity);
    }

    /**
     * Starts marking boots stalled: every second, each open session whose last event is older than its step's
     * deadline gets a {@code STALLED} event, recorded and told like any other. Stops with {@link #close}.
     */
    public void watchStalls(StallDeadlines deadlines) {
        watchStalls(deadlines, last -> false);
    }

    /**
     * As above; {@code ended} names the events after which a boot sends nothing more (a kernel served alone: its
     * last file), so those sessions rest.
     */
    public void watchStalls(StallDeadlines deadlines, java.util.function.Predicate<BootEvent> ended) {
        Thread.ofPlatform().name("events-stall-watch").daemon().start(() -> {
            while (running) {
                try {
                    Thread.sleep(STALL_CHECK_EVERY);
                } catch (InterruptedException e) {
                    return;
                }
                for (BootSessions.Cut c : sessions.cutStalls(java.time.Instant.now(), deadlines, ended)) {
                    enqueue(c, null);
                }
            }
        });
    }

    /** Called for every event, in order, on the dispatcher thread, with the session it joined. */
    public void onEvent(BiConsumer<BootSession, BootEvent> listener) {
        listeners.add(listener);
    }

    /** Called on the dispatcher thread whenever it has told every waiting event: flush buffered output here. */
    public void onIdle(Runnable hook) {
        idleHooks.add(hook);
    }

    @Override
    public void emit(BootEvent event) {
        submit(event, null);
    }

    @Override
    public CompletableFuture<Void> emitDurably(BootEvent event) {
        CompletableFuture<Void> durable = new CompletableFuture<>();
        submit(event, durable);
        return durable;
    }

    private void submit(BootEvent event, CompletableFuture<Void> durable) {
        Optional<BootSessions.Cut> cut = sessions.cut(event);
        if (cut.isEmpty()) {
            lose(1, "its session holds as many events as it may");
            fail(durable, "the session of " + event.mac() + " holds as many events as it may");
            return;
        }
        enqueue(cut.get(), durable);
    }

    private void enqueue(BootSessions.Cut c, CompletableFuture<Void> durable) {
        BootEvent event = c.event();
        if (store.isPresent()) {
            if (toStore.offer(new Pending(new EventLog.Entry(c.session().id(), c.seq(), event), durable))) {
                enqueued.incrementAndGet();
            } else {
                lose(1, "the event log is behind (queue full)");
                fail(durable, "the event log is behind");
            }
        } else if (durable != null) {
            durable.complete(null);
        }
        offeredToListeners.incrementAndGet();
        if (!toListeners.offer(new Dispatch(c.session(), event))) {
            offeredToListeners.decrementAndGet();
            log.debug("listeners behind: {} {} not shown", event.mac(), event.step());
        }
    }

    private static void fail(CompletableFuture<Void> durable, String why) {
        if (durable != null) {
            durable.completeExceptionally(new IllegalStateException(why));
        }
    }

    private void writeLoop() {
        EventLog log = store.orElseThrow();
        List<Pending> batch = new ArrayList<>();
        while (running || !toStore.isEmpty()) {
            try {
                Pending first = toStore.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                toStore.drainTo(batch, MAX_BATCH - 1);
                commit(log, batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Throwable t) {
                // The writer must outlive anything one batch can throw, or recording would stop for good.
                EventPipeline.log.error("event writer: {}", t.toString(), t);
                abandoned.addAndGet(batch.size());
                lose(batch.size(), t.toString());
                batch.forEach(p -> fail(p.durable(), t.toString()));
            } finally {
                batch.clear();
            }
        }
    }

    /** Commits the batch, retrying it a few times; what still fails is tried event by event, then lost. */
    private void commit(EventLog log, List<Pending> batch) throws InterruptedException {
        List<EventLog.Entry> entries = batch.stream().map(Pending::entry).toList();
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                log.append(entries);
                // Cleared before the waiters wake, so whoever wakes sees the store recording again.
                if (storeFailing) {
                    storeFailing = false;
                    EventPipeline.log.info("event log: recording again ({} events lost while it failed)", lost.get());
                }
                done(batch);
                return;
            } catch (RuntimeException e) {
                if (!storeFailing) {
                    storeFailing = true;
                    EventPipeline.log.warn("event log: cannot record {} events (attempt {}): {}", batch.size(),
                            attempt, e.getMessage());
                }
                Thread.sleep(200L * attempt);
            }
        }
        for (Pending p : batch) {
            try {
                log.append(List.of(p.entry()));
                done(List.of(p));
            } catch (RuntimeException e) {
                // Counted before the waiter hears of it, so whoever wakes sees the loss in lost().
                abandoned.incrementAndGet();
                lose(1, e.getMessage());
                fail(p.durable(), e.getMessage());
            }
        }
    }

    private void done(List<Pending> batch) {
        stored.addAndGet(batch.size());
        for (Pending p : batch) {
            if (p.durable() != null) {
                p.durable().complete(null);
            }
        }
    }

    private void dispatchLoop() {
        List<Dispatch> batch = new ArrayList<>();
        while (running || !toListeners.isEmpty()) {
            try {
                Dispatch first = toListeners.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            toListeners.drainTo(batch, MAX_BATCH - 1);
            for (Dispatch d : batch) {
                tell(d);
            }
            if (toListeners.isEmpty()) {
                for (Runnable hook : idleHooks) {
                    try {
                        hook.run();
                    } catch (Throwable t) {
                        log.warn("event listener flush failed: {}", t.toString());
                    }
                }
            }
            dispatched.addAndGet(batch.size());
            batch.clear();
        }
    }

    private void tell(Dispatch d) {
        for (BiConsumer<BootSession, BootEvent> l : listeners) {
            try {
                l.accept(d.session(), d.event());
            } catch (Throwable t) {
                // A listener must never stop the others, nor the dispatcher.
                log.warn("event listener failed on {} {}: {}", d.event().mac(), d.event().step(), t.toString());
            }
        }
    }

    /** Counts lost events and says so at most once a minute, with how many since the last time. */
    private void lose(long count, String why) {
        long total = lost.addAndGet(count);
        long now = System.nanoTime();
        if (lossLoggedAt == 0 || now - lossLoggedAt > LOSS_LOG_INTERVAL.toNanos()) {
            synchronized (this) {
                if (lossLoggedAt == 0 || now - lossLoggedAt > LOSS_LOG_INTERVAL.toNanos()) {
                    log.warn("boot events lost: {} since the last report, {} in all; last because {}",
                            total - lossLoggedCount, total, why);
                    lossLoggedAt = now;
                    lossLoggedCount = total;
                }
            }
        }
    }

    /** Events not recorded (queue full, session full, or the store refused them): a metric. */
    public long lost() {
        return lost.get();
    }

    /** Events committed to the store so far. */
    public long stored() {
        return stored.get();
    }

    /** Events waiting for the writer. */
    public int backlog() {
        return toStore.size();
    }

    /** True while the store refuses writes. */
    public boolean storeFailing() {
        return storeFailing;
    }

    public BootSessions sessions() {
        return sessions;
    }

    /**
     * Waits until everything emitted so far was committed (or given up) and told to the listeners, at most
     * {@code timeout}; true when it was.
     */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long wantStored = enqueued.get();
        long wantDispatched = offeredToListeners.get();
        while (System.nanoTime() < deadline) {
            boolean storeDone = store.isEmpty() || stored.get() + abandoned.get() >= wantStored && toStore.isEmpty();
            if (storeDone && dispatched.get() >= wantDispatched) {
                return true;
            }
            Thread.sleep(5);
        }
        return false;
    }

    /** Commits and dispatches what is queued (for a few seconds at most), then stops both threads. */
    @Override
    public void close() {
        try {
            flush(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running = false;
        try {
            writer.join(2000);
            dispatcher.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
