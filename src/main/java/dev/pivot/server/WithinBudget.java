package dev.pivot.server;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * A lookup that may read the store, made safe for a protocol thread: a DHCP answer must not wait for a database
 * that is slow or gone. The read runs on a virtual thread; the caller waits for it at most {@code budget}, then
 * takes what is known without the store. Results are kept for {@code fresh} (a DISCOVER and its REQUEST get the
 * same answer, and a burst of packets makes one read per machine); after that a new read is waited for within the
 * budget like the first, and the older result answers when it is too slow. Bounded: at most {@code maxEntries} results kept (least recently used dropped), at most
 * {@code maxReads} reads at once (past it the caller gets the answer without the store at once).
 */
final class WithinBudget<K, V> implements AutoCloseable {

    private record Kept<V>(V value, long readAt, long version) { }

    private final Function<K, V> read;
    private final LongSupplier version;
    private final Function<K, V> withoutStore;
    private final long budgetNanos;
    private final long freshNanos;
    private final Map<K, Kept<V>> kept;
    private final Map<K, CompletableFuture<V>> reading = new ConcurrentHashMap<>();
    private final Semaphore reads;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

    /**
     * @param version goes up when what the reads depend on besides the store changed (profiles reloaded): results
     *                read under an older version are dropped
     */
    WithinBudget(Function<K, V> read, Function<K, V> withoutStore, LongSupplier version, Duration budget,
                 Duration fresh, int maxEntries, int maxReads) {
        this.read = read;
        this.version = version;
        this.withoutStore = withoutStore;
        this.budgetNanos = budget.toNanos();
        this.freshNanos = fresh.toNanos();
        this.reads = new Semaphore(maxReads);
        this.kept = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, Kept<V>> eldest) {
                return size() > maxEntries;
            }
        };
    }

    V get(K key) {
        Kept<V> known;
        synchronized (kept) {
            known = kept.get(key);
        }
        if (known != null && known.version() != version.getAsLong()) {
            known = null;
        }
        if (known != null && System.nanoTime() - known.readAt() < freshNanos) {
            return known.value();
        }
        CompletableFuture<V> pending = startRead(key);
        if (pending != null) {
            try {
                return pending.get(budgetNanos, TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // too slow, or failed: answer without the store; a finished read is kept for the next packet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return known != null ? known.value() : withoutStore.apply(key);
    }

    /** Starts a read of {@code key} unless one runs; null when every read slot is taken. */
    private CompletableFuture<V> startRead(K key) {
        CompletableFuture<V> running = reading.get(key);
        if (running != null) {
            return running;
        }
        if (!reads.tryAcquire()) {
            return null;
        }
        CompletableFuture<V> mine = new CompletableFuture<>();
        CompletableFuture<V> raced = reading.putIfAbsent(key, mine);
        if (raced != null) {
            reads.release();
            return raced;
        }
        try {
            executor.execute(() -> {
                V value = null;
                Throwable failed = null;
                try {
                    long readUnder = version.getAsLong();
                    value = read.apply(key);
                    synchronized (kept) {
                        kept.put(key, new Kept<>(value, System.nanoTime(), readUnder));
                    }
                } catch (Throwable t) {
                    failed = t;
                } finally {
                    // Before the waiter hears: a lookup right after must not find this finished read as running.
                    reading.remove(key, mine);
                    reads.release();
                }
                if (failed != null) {
                    mine.completeExceptionally(failed);
                } else {
                    mine.complete(value);
                }
            });
        } catch (RuntimeException e) {
            // closed: no read, the caller answers without the store
            reading.remove(key, mine);
            reads.release();
            return null;
        }
        return mine;
    }

    int kept() {
        synchronized (kept) {
            return kept.size();
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }
}
