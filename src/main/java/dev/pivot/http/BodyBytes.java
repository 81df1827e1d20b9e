package dev.pivot.http;

import java.util.concurrent.atomic.LongAdder;

/**
 * File bytes sent by each path: straight from the page cache into the socket ({@code sendfile}), or read into a
 * buffer and written (where the connection is not a plain socket Pivot owns). Tells an operator, and the tests,
 * which path the downloads take.
 */
final class BodyBytes {

    private final LongAdder zeroCopy = new LongAdder();
    private final LongAdder copied = new LongAdder();

    void add(boolean wasZeroCopy, long bytes) {
        (wasZeroCopy ? zeroCopy : copied).add(bytes);
    }

    long zeroCopy() {
        return zeroCopy.sum();
    }

    long copied() {
        return copied.sum();
    }
}
