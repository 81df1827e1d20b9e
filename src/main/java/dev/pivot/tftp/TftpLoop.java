package dev.pivot.tftp;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One event loop: a platform thread and a Selector that own the channels of many transfers, with their
 * retransmission and give-up timers. A transfer costs a socket, its window of blocks and a few objects,
 * never a thread. Everything a loop owns is touched only by its thread; other threads hand it work through
 * {@link #submit}.
 *
 * <p>Timers are a priority queue with at most one entry per timer in the common case: moving a deadline later (what
 * every ACK does) adds nothing, the entry fires early and is queued again at the real deadline; only an earlier
 * deadline adds an entry, and the one it supersedes is dropped when it comes up.
 *
 * <p>Lock-step TFTP on a LAN waits one round trip per block, tens of microseconds, about what waking a sleeping
 * thread costs. After a transfer sent something and its measured round trip is short, the loop polls its selector
 * without sleeping for up to {@link AckSpin}'s budget before it blocks (at most half the CPUs spin at once).
 */
final class TftpLoop implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(TftpLoop.class);
    static final long NONE = Long.MAX_VALUE;
    /** Packets taken from one channel before the others get their turn. */
    static final int DRAIN_PER_WAKE = 64;

    /** What a registered channel does when a datagram is waiting, and when the loop stops. */
    interface Handler {
        void readable();

        /** The loop is closing: end, without waiting for anything. */
        default void shutdown() { }
    }

    /** What a timer runs when its deadline passed. */
    interface Expiry {
        void expired(long now);
    }

    /** A deadline owned by one transfer; set with {@link #schedule}, cleared with {@link #cancel}. */
    static final class Timer {
        private final Expiry owner;
        private long deadline = NONE;
        private long queuedAt = NONE;

        Timer(Expiry owner) {
            this.owner = owner;
        }
    }

    private record Entry(long at, Timer timer) { }

    private final Selector selector;
    private final Thread thread;
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final PriorityQueue<Entry> timers = new PriorityQueue<>(Comparator.comparingLong(Entry::at));
    /** One datagram in; large enough for any packet, shared by every channel of this loop. */
    private final ByteBuffer receiveBuffer = ByteBuffer.allocate(TftpCodec.MAX_PACKET);
    /** One DATA packet out (opcode, block, the largest block), shared likewise: sends happen on this thread only. */
    private final ByteBuffer sendBuffer = ByteBuffer.allocateDirect(4 + TransferOptions.MAX_BLOCK_SIZE);
    /** Transfers assigned to this loop (registered or about to be), for spreading them across loops. */
    private final AtomicInteger load = new AtomicInteger();
    private volatile boolean open = true;
    private long spinUntil;

    TftpLoop(String name) throws IOException {
        this.selector = Selector.open();
        this.thread = Thread.ofPlatform().daemon(true).name(name).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    AtomicInteger load() {
        return load;
    }

    ByteBuffer receiveBuffer() {
        return receiveBuffer;
    }

    ByteBuffer sendBuffer() {
        return sendBuffer;
    }

    /** Runs {@code task} on the loop's thread soon; false when the loop is closed (the task will never run). */
    boolean submit(Runnable task) {
        if (!open) {
            return false;
        }
        tasks.add(task);
        selector.wakeup();
        return true;
    }

    /** Registers a non-blocking channel; loop thread only. */
    SelectionKey register(DatagramChannel channel, Handler handler) throws ClosedChannelException {
        return channel.register(selector, SelectionKey.OP_READ, handler);
    }

    /** Sets the timer's deadline (System.nanoTime based), replacing any earlier one; loop thread only. */
    void schedule(Timer timer, long deadline) {
        timer.deadline = deadline;
        if (deadline < timer.queuedAt) {
            timer.queuedAt = deadline;
            timers.add(new Entry(deadline, timer));
        }
    }

    void cancel(Timer timer) {
        timer.deadline = NONE;
    }

    /** A transfer just sent and expects an answer within about {@code nanos}: poll instead of sleeping meanwhile. */
    void spinFor(long nanos) {
        if (nanos > 0) {
            spinUntil = Math.max(spinUntil, System.nanoTime() + nanos);
        }
    }

    private void run() {
        while (open) {
            try {
                turn();
            } catch (Throwable t) {
                // One transfer's bug, or a passing OutOfMemoryError, must not stop every other transfer.
                log.error("TFTP: unexpected error in the event loop {}", thread.getName(), t);
            }
        }
        // Transfers handed over just before the close register first, then every registered one ends.
        runTasks();
        for (SelectionKey key : new ArrayList<>(selector.keys())) {
            try {
                ((Handler) key.attachment()).shutdown();
            } catch (Throwable t) {
                log.debug("TFTP: closing a transfer: {}", t.toString());
            }
        }
        try {
            selector.close();
        } catch (IOException e) {
            log.debug("TFTP: closing the selector: {}", e.toString());
        }
    }

    private void turn() throws IOException {
        runTasks();
        long now = System.nanoTime();
        runTimers(now);
        long next = timers.isEmpty() ? NONE : timers.peek().at();
        int ready;
        if (spinUntil - now > 0 && next - now > 0 && AckSpin.tryStart()) {
            try {
                long until = Math.min(spinUntil, next);
                do {
                    Thread.onSpinWait();
                    ready = selector.selectNow();
                } while (ready == 0 && tasks.isEmpty() && System.nanoTime() - until < 0);
            } finally {
                AckSpin.end();
            }
        } else if (next - now <= 0 || !tasks.isEmpty()) {
            ready = selector.selectNow();
        } else if (next == NONE) {
            ready = selector.select();
        } else {
            // select(0) would wait forever: round the remainder up to a whole millisecond.
            ready = selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(next - now + 999_999)));
        }
        if (ready > 0) {
            Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
            while (keys.hasNext()) {
                SelectionKey key = keys.next();
                keys.remove();
                if (!key.isValid()) {
                    continue;
                }
                try {
                    ((Handler) key.attachment()).readable();
                } catch (Throwable t) {
                    log.error("TFTP: unexpected error handling a packet", t);
                }
            }
        }
    }

    private void runTasks() {
        for (Runnable task; (task = tasks.poll()) != null; ) {
            runSafely(task);
        }
    }

    private static void runSafely(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) {
            log.error("TFTP: unexpected error in a loop task", t);
        }
    }

    private void runTimers(long now) {
        Entry head;
        while ((head = timers.peek()) != null && head.at() - now <= 0) {
            timers.poll();
            Timer timer = head.timer();
            if (head.at() != timer.queuedAt) {
                continue; // superseded by an earlier entry, already handled
            }
            timer.queuedAt = NONE;
            if (timer.deadline == NONE) {
                continue;
            }
            if (timer.deadline - now > 0) {
                timer.queuedAt = timer.deadline;
                timers.add(new Entry(timer.deadline, timer));
                continue;
            }
            timer.deadline = NONE;
            try {
                timer.owner.expired(now);
            } catch (Throwable t) {
                log.error("TFTP: unexpected error in a transfer's timer", t);
            }
        }
    }

    /** How many timer entries are queued (for tests: bounded by the transfers, not by the blocks sent). */
    int queuedTimers() {
        return timers.size();
    }

    /** Stops the loop: every transfer it owns ends (its socket closes), then the thread ends. */
    @Override
    public void close() {
        open = false;
        selector.wakeup();
        if (!inLoop()) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static List<TftpLoop> open(int count) throws IOException {
        List<TftpLoop> loops = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                loops.add(new TftpLoop("tftp-loop-" + (i + 1)));
            }
        } catch (IOException e) {
            for (TftpLoop loop : loops) {
                loop.selector.close();
            }
            throw e;
        }
        return loops;
    }
}
