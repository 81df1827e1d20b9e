package dev.pivot.http;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzz target for the conditional headers (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since,
 * If-Range), which any HTTP client controls. The corpus ({@code PreconditionsFuzzTestInputs/}) holds what curl and
 * browsers send. {@code ./test} fuzzes it for its {@code maxDuration} (profile pivot.fuzz).
 *
 * <p>The properties: any headers give an outcome, never an exception; a request naming the representation's own
 * (quoted hex) ETag in If-Match and If-Range always proceeds with its Range.
 */
class PreconditionsFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void anyHeadersGiveAnOutcome(FuzzedDataProvider in) {
        // Pivot's ETags are quoted hex (the artifact's sha256); the headers are anything a client sends.
        String etag = "\"" + java.util.HexFormat.of().formatHex(in.consumeBytes(8)) + "\"";
        long lastModified = in.consumeLong(0, 1L << 40);
        String ifMatch = header(in);
        String ifUnmodifiedSince = header(in);
        String ifNoneMatch = header(in);
        String ifModifiedSince = header(in);
        String ifRange = header(in);
        assertThat(Preconditions.evaluate(ifMatch, ifUnmodifiedSince, ifNoneMatch, ifModifiedSince, etag,
                lastModified)).isNotNull();
        Preconditions.rangeStillValid(ifRange, etag, lastModified);
        assertThat(Preconditions.evaluate(etag, ifUnmodifiedSince, null, null, etag, lastModified))
                .isEqualTo(Preconditions.Outcome.PROCEED);
        assertThat(Preconditions.rangeStillValid(etag, etag, lastModified)).isTrue();
    }

    private static String header(FuzzedDataProvider in) {
        return in.consumeBoolean() ? in.consumeString(80) : null;
    }
}
