package dev.pivot.http;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ByteRangeTest {

    static final long SIZE = 1000;

    static ByteRange parse(String header) {
        return ByteRange.parse(header, SIZE);
    }

    @Test
    void singleRanges() {
        assertThat(parse("bytes=0-0")).isEqualTo(new ByteRange.Part(0, 0));
        assertThat(parse("bytes=999-999")).isEqualTo(new ByteRange.Part(999, 999));
        assertThat(parse("bytes=100-")).isEqualTo(new ByteRange.Part(100, 999));
        assertThat(parse("bytes=-1")).isEqualTo(new ByteRange.Part(999, 999));
        assertThat(parse("bytes=-5000")).isEqualTo(new ByteRange.Part(0, 999));
        assertThat(parse("bytes=990-5000")).isEqualTo(new ByteRange.Part(990, 999));
        assertThat(parse(" Bytes = 1 - 2 ")).isEqualTo(new ByteRange.Part(1, 2));
    }

    @Test
    void contentRangeNamesTheTotal() {
        assertThat(new ByteRange.Part(5, 9).contentRange(SIZE)).isEqualTo("bytes 5-9/1000");
        assertThat(new ByteRange.Part(5, 9).length()).isEqualTo(5);
    }

    @Test
    void rangesStartingPastTheEndAreUnsatisfiable() {
        assertThat(parse("bytes=1000-")).isInstanceOf(ByteRange.Unsatisfiable.class);
        assertThat(parse("bytes=1000-2000")).isInstanceOf(ByteRange.Unsatisfiable.class);
        assertThat(parse("bytes=-0")).isInstanceOf(ByteRange.Unsatisfiable.class);
        assertThat(parse("bytes=2000-,3000-3001")).isInstanceOf(ByteRange.Unsatisfiable.class);
        assertThat(ByteRange.parse("bytes=0-", 0)).isInstanceOf(ByteRange.Unsatisfiable.class);
    }

    @Test
    void malformedOrForeignHeadersAreIgnored() {
        assertThat(parse(null)).isInstanceOf(ByteRange.Whole.class);
        assertThat(parse("items=0-1")).isInstanceOf(ByteRange.Whole.class);
        assertThat(parse("bytes=5-1")).isInstanceOf(ByteRange.Whole.class);
        assertThat(parse("bytes=a-b")).isInstanceOf(ByteRange.Whole.class);
        assertThat(parse("bytes=")).isInstanceOf(ByteRange.Whole.class);
        assertThat(parse("bytes=1")).isInstanceOf(ByteRange.Whole.class);
        assertThat(parse("bytes=99999999999999999999-")).isInstanceOf(ByteRange.Whole.class);
        assertThat(parse("bytes=+1-2")).isInstanceOf(ByteRange.Whole.class);
    }

    @Test
    void severalSatisfiableRangesGetTheWholeRepresentation() {
        assertThat(parse("bytes=0-1,5-6")).isInstanceOf(ByteRange.Whole.class);
        // Only one of them overlaps: that one is sent as a single part.
        assertThat(parse("bytes=0-1,5000-6000")).isEqualTo(new ByteRange.Part(0, 1));
    }

    @Test
    void rangesBeyondFourGibUseLongOffsets() {
        long size = 5L << 30;
        assertThat(ByteRange.parse("bytes=4831838208-", size)).isEqualTo(new ByteRange.Part(4831838208L, size - 1));
        assertThat(ByteRange.parse("bytes=-10", size)).isEqualTo(new ByteRange.Part(size - 10, size - 1));
    }
}
