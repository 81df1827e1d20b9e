package dev.pivot.history;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EventPipelineTest {

    private static final MacAddress A = MacAddress.parse("52:54:00:00:00:0a");

    /** An event log in memory that can be made to fail, or to hold every commit until released. */
    static final class FakeLog implements EventLog {
        final List<List<Entry>> batches = Collections.synchronizedList(new ArrayList<>());
        volatile boolean failing;
        volatile CountDownLatch gate = new CountDownLatch(0);

        @Override
        public void append(List<Entry> batch) {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (failing) {
                throw new IllegalStateException("disk full");
            }
            batches.add(List.copyOf(batch));
        }

        int events() {
            synchronized (batches) {
                return batches.stream().mapToInt(List::size).sum();
            }
        }

        @Override
        public long lastSessionId() {
            return 0;
        }

        @Override
        public List<BootSession> sessions(Optional<MacAddress> mac, int limit) {
            return List.of();
        }

        @Override
        public Optional<BootSession> session(long id) {
            return Optional.empty();
        }
    }

    private static BootEvent event(int i) {
        return BootEvent.ok(MacAddress.parse(String.format("52:54:00:00:%02x:%02x", i / 256 % 256, i % 256)),
                Step.DHCP, "offer " + i, 0);
    }

    @Test
    void emitNeverWaitsForTheStoreAndEventsQueuedMeanwhileGoInOneBatch() throws Exception {
        FakeLog store = new FakeLog();
        store.gate = new CountDownLatch(1); // every commit blocks, like a slow fsync
        try (EventPipeline pipeline = new EventPipeline(new BootSessions(), Optional.of(store), 10_000)) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 1000; i++) {
                pipeline.emit(event(i));
            }
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("1000 emits with the store stuck")
                    .isLessThan(Duration.ofSeconds(2));
            store.gate.countDown();
            assertThat(pipeline.flush(Duration.ofSeconds(10))).isTrue();
            assertThat(store.events()).isEqualTo(1000);
            assertThat(store.batches.size()).as("group commit: far fewer transactions than events").isLessThan(10);
        }
    }

    @Test
    void aDurableWaiterWakesOnlyAfterItsBatchIsCommitted() throws Exception {
        FakeLog store = new FakeLog();
        store.gate = new CountDownLatch(1); // the commit is under way and has not returned
        try (EventPipeline pipeline = new EventPipeline(new BootSessions(), Optional.of(store), 100)) {
            CompletableFuture<Void> report = pipeline.emitDurably(BootEvent.ok(A, Step.STAGE1, "prelude", 0));
            Thread.sleep(300); // long enough for a wrong implementation to complete it early
            assertThat(report).as("acknowledged before its commit returned").isNotDone();
            store.gate.countDown();
            report.get(10, TimeUnit.SECONDS);
            assertThat(store.events()).isEqualTo(1);
        }
    }

    @Test
    void aFullQueueLosesEventsCountsThemAndDurableWaitersHearOfIt() throws Exception {
        FakeLog store = new FakeLog();
        store.gate = new CountDownLatch(1);
        try (EventPipeline pipeline = new EventPipeline(new BootSessions(), Optional.of(store), 10)) {
            List<CompletableFuture<Void>> waits = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                waits.add(pipeline.emitDurably(event(i)));
            }
            assertThat(pipeline.lost()).isGreaterThanOrEqualTo(30);
            // Which ones were lost depends on when the writer took its first batch; each lost one's waiter hears of it.
            assertThat(waits.stream().filter(CompletableFuture::isCompletedExceptionally).count())
                    .isEqualTo(pipeline.lost());
            store.gate.countDown();
            assertThat(pipeline.flush(Duration.ofSeconds(10))).isTrue();
            assertThat(waits.getFirst().get(5, TimeUnit.SECONDS)).isNull();
            assertThat(store.events() + pipeline.lost()).isEqualTo(50);
        }
    }

    @Test
    void aFailingStoreLosesEventsButListenersHearThemAndRecordingResumesByItself() throws Exception {
        FakeLog store = new FakeLog();
        store.failing = true;
        List<BootEvent> heard = Collections.synchronizedList(new ArrayList<>());
        try (EventPipeline pipeline = new EventPipeline(new BootSessions(), Optional.of(store), 1000)) {
            pipeline.onEvent((session, e) -> heard.add(e));
            CompletableFuture<Void> report = pipeline.emitDurably(BootEvent.ok(A, Step.STAGE1, "prelude", 0));
            assertThatThrownBy(() -> report.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasMessageContaining("disk full");
            assertThat(pipeline.lost()).isEqualTo(1);
            assertThat(pipeline.storeFailing()).isTrue();

            store.failing = false;
            pipeline.emitDurably(BootEvent.ok(A, Step.NETWORK, "eth0", 0)).get(30, TimeUnit.SECONDS);
            assertThat(pipeline.storeFailing()).isFalse();
            assertThat(store.events()).isEqualTo(1);
            assertThat(pipeline.flush(Duration.ofSeconds(5))).isTrue();
            assertThat(heard).extracting(BootEvent::step).containsExactly(Step.STAGE1, Step.NETWORK);
        }
    }

    @Test
    void aListenerThatThrowsDoesNotStopTheOthers() throws Exception {
        List<BootEvent> heard = Collections.synchronizedList(new ArrayList<>());
        try (EventPipeline pipeline = new EventPipeline(new BootSessions(), Optional.empty(), 100)) {
            pipeline.onEvent((s, e) -> {
                throw new OutOfMemoryError("simulated");
            });
            pipeline.onEvent((s, e) -> heard.add(e));
            pipeline.emit(event(1));
            pipeline.emit(event(2));
            assertThat(pipeline.flush(Duration.ofSeconds(5))).isTrue();
            assertThat(heard).hasSize(2);
        }
    }
}
