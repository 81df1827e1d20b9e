package dev.pivot.http;

import org.eclipse.jetty.http.DateGenerator;
import org.junit.jupiter.api.Test;

import static dev.pivot.http.Preconditions.Outcome.NOT_MODIFIED;
import static dev.pivot.http.Preconditions.Outcome.PRECONDITION_FAILED;
import static dev.pivot.http.Preconditions.Outcome.PROCEED;
import static org.assertj.core.api.Assertions.assertThat;

class PreconditionsTest {

    static final String ETAG = "\"" + "ab".repeat(32) + "\"";
    static final long MTIME = 1_700_000_000L;
    static final String AT_MTIME = DateGenerator.formatDate(MTIME * 1000);
    static final String BEFORE = DateGenerator.formatDate((MTIME - 60) * 1000);

    @Test
    void ifNoneMatchWinsOverIfModifiedSince() {
        assertThat(Preconditions.evaluate(null, null, ETAG, null, ETAG, MTIME)).isEqualTo(NOT_MODIFIED);
        assertThat(Preconditions.evaluate(null, null, "\"x\", W/" + ETAG, null, ETAG, MTIME)).isEqualTo(NOT_MODIFIED);
        assertThat(Preconditions.evaluate(null, null, "*", null, ETAG, MTIME)).isEqualTo(NOT_MODIFIED);
        assertThat(Preconditions.evaluate(null, null, "\"other\"", AT_MTIME, ETAG, MTIME)).isEqualTo(PROCEED);
    }

    @Test
    void ifModifiedSinceComparesWholeSeconds() {
        assertThat(Preconditions.evaluate(null, null, null, AT_MTIME, ETAG, MTIME)).isEqualTo(NOT_MODIFIED);
        assertThat(Preconditions.evaluate(null, null, null, BEFORE, ETAG, MTIME)).isEqualTo(PROCEED);
        assertThat(Preconditions.evaluate(null, null, null, "not a date", ETAG, MTIME)).isEqualTo(PROCEED);
    }

    @Test
    void ifMatchAndIfUnmodifiedSince() {
        assertThat(Preconditions.evaluate("\"other\"", null, null, null, ETAG, MTIME)).isEqualTo(PRECONDITION_FAILED);
        assertThat(Preconditions.evaluate("W/" + ETAG, null, null, null, ETAG, MTIME)).isEqualTo(PRECONDITION_FAILED);
        assertThat(Preconditions.evaluate(ETAG, null, null, null, ETAG, MTIME)).isEqualTo(PROCEED);
        assertThat(Preconditions.evaluate(null, BEFORE, null, null, ETAG, MTIME)).isEqualTo(PRECONDITION_FAILED);
    }

    @Test
    void ifRangeNeedsAStrongMatch() {
        assertThat(Preconditions.rangeStillValid(null, ETAG, MTIME)).isTrue();
        assertThat(Preconditions.rangeStillValid(ETAG, ETAG, MTIME)).isTrue();
        assertThat(Preconditions.rangeStillValid("W/" + ETAG, ETAG, MTIME)).isFalse();
        assertThat(Preconditions.rangeStillValid("\"other\"", ETAG, MTIME)).isFalse();
        assertThat(Preconditions.rangeStillValid(AT_MTIME, ETAG, MTIME)).isTrue();
        assertThat(Preconditions.rangeStillValid(BEFORE, ETAG, MTIME)).isFalse();
    }

    @Test
    void allThreeHttpDateFormsParse() {
        long expected = 784111777L; // RFC 9110's example instant, Sun, 06 Nov 1994 08:49:37 GMT
        assertThat(HttpDates.seconds("Sun, 06 Nov 1994 08:49:37 GMT")).isEqualTo(expected);
        assertThat(HttpDates.seconds("Sunday, 06-Nov-94 08:49:37 GMT")).isEqualTo(expected);
        assertThat(HttpDates.seconds("Sun Nov  6 08:49:37 1994")).isEqualTo(expected);
        assertThat(HttpDates.seconds(AT_MTIME)).isEqualTo(MTIME);
        assertThat(HttpDates.seconds("yesterday")).isEqualTo(-1);
    }
}
