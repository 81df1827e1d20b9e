package dev.pivot.boot;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class QuotaTest {

    @Test
    void boundsEachSourceAndTheTotal() {
        Quota<String> q = new Quota<>(3, 2);
        assertThat(q.tryAcquire("a")).isEqualTo(Quota.Verdict.GRANTED);
        assertThat(q.tryAcquire("a")).isEqualTo(Quota.Verdict.GRANTED);
        assertThat(q.tryAcquire("a")).isEqualTo(Quota.Verdict.PER_SOURCE);
        assertThat(q.tryAcquire("b")).isEqualTo(Quota.Verdict.GRANTED);
        assertThat(q.tryAcquire("c")).isEqualTo(Quota.Verdict.TOTAL);
        assertThat(q.inUse()).isEqualTo(3);
        q.release("a");
        assertThat(q.tryAcquire("c")).isEqualTo(Quota.Verdict.GRANTED);
        q.release("a");
        q.release("b");
        q.release("c");
        assertThat(q.inUse()).isZero();
        assertThat(q.inUse("a")).isZero();
    }
}
