package dev.pivot.server;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

class WithinBudgetTest {

    static final Duration BUDGET = Duration.ofMillis(50);
    /** For the cases that are not about the budget: a loaded host must not make them budget cases. */
    static final Duration PATIENT = Duration.ofSeconds(10);

    @Test
    void aFastReadIsWaitedForAndKept() {
        AtomicInteger reads = new AtomicInteger();
        try (WithinBudget<String, String> lookup = new WithinBudget<>(k -> "stored " + k + " " + reads.incrementAndGet(),
                k -> "fallback", () -> 0L, PATIENT, Duration.ofSeconds(30), 100, 4)) {
            assertThat(lookup.get("a")).isEqualTo("stored a 1");
            assertThat(lookup.get("a")).as("kept while fresh: no second read").isEqualTo("stored a 1");
            assertThat(reads).hasValue(1);
        }
    }

    @Test
    void aSlowStoreCostsTheCallerTheBudgetOnlyThenTheReadIsKept() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Function<String, String> slow = k -> {
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "stored";
        };
        try (WithinBudget<String, String> lookup = new WithinBudget<>(slow, k -> "fallback", () -> 0L, BUDGET,
                Duration.ofSeconds(30), 100, 4)) {
            long start = System.nanoTime();
            assertThat(lookup.get("a")).isEqualTo("fallback");
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(waited).as("waited about the budget").isBetween(40L, 1000L);
            release.countDown();
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (lookup.kept() == 0 && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertThat(lookup.get("a")).as("the finished read answers the next packet").isEqualTo("stored");
        }
    }

    @Test
    void readsAtOnceAreBoundedAndTheRestAnswerWithoutWaiting() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        Function<Integer, String> stuck = k -> {
            started.incrementAndGet();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "stored";
        };
        try (WithinBudget<Integer, String> lookup = new WithinBudget<>(stuck, k -> "fallback", () -> 0L, BUDGET,
                Duration.ofSeconds(30), 100, 2)) {
            assertThat(lookup.get(1)).isEqualTo("fallback");
            assertThat(lookup.get(2)).isEqualTo("fallback");
            long start = System.nanoTime();
            for (int k = 3; k < 50; k++) {
                assertThat(lookup.get(k)).isEqualTo("fallback");
            }
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
                    .as("no waiting once every read slot is taken").isLessThan(BUDGET.toMillis() * 10);
            assertThat(started).as("reads started").hasValueLessThanOrEqualTo(2);
            release.countDown();
        }
    }

    @Test
    void aNewVersionDropsWhatWasReadBefore() {
        AtomicInteger reads = new AtomicInteger();
        java.util.concurrent.atomic.AtomicLong version = new java.util.concurrent.atomic.AtomicLong();
        try (WithinBudget<String, Integer> lookup = new WithinBudget<>(k -> reads.incrementAndGet(), k -> -1,
                version::get, PATIENT, Duration.ofSeconds(30), 10, 4)) {
            assertThat(lookup.get("a")).isEqualTo(1);
            assertThat(lookup.get("a")).isEqualTo(1);
            version.incrementAndGet();
            assertThat(lookup.get("a")).as("profiles reloaded: read again at once").isEqualTo(2);
        }
    }

    @Test
    void keptResultsAreBoundedAndAStaleOneIsReadAgain() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        try (WithinBudget<Integer, Integer> lookup = new WithinBudget<>(k -> reads.incrementAndGet(), k -> -1, () -> 0L,
                PATIENT, Duration.ofMillis(100), 10, 4)) {
            for (int k = 0; k < 100; k++) {
                lookup.get(k);
            }
            assertThat(lookup.kept()).isEqualTo(10);
            int first = lookup.get(99);
            Thread.sleep(150);
            assertThat(lookup.get(99)).as("stale: read again").isGreaterThan(first);
        }
    }
}
