package dev.pivot.http;

import java.util.Arrays;

/**
 * RFC 9110 §13.2.2 conditional request evaluation for an immutable representation with a strong ETag and a
 * Last-Modified time (in whole seconds, as HTTP dates carry).
 */
final class Preconditions {

    enum Outcome { PROCEED, NOT_MODIFIED, PRECONDITION_FAILED }

    private Preconditions() {
    }

    static Outcome evaluate(String ifMatch, String ifUnmodifiedSince, String ifNoneMatch, String ifModifiedSince,
                            String etag, long lastModifiedSeconds) {
        if (ifMatch != null) {
            if (!matches(ifMatch, etag, true)) {
                return Outcome.PRECONDITION_FAILED;
            }
        } else if (ifUnmodifiedSince != null) {
            long since = seconds(ifUnmodifiedSince);
            if (since >= 0 && lastModifiedSeconds > since) {
                return Outcome.PRECONDITION_FAILED;
            }
        }
        if (ifNoneMatch != null) {
            if (matches(ifNoneMatch, etag, false)) {
                return Outcome.NOT_MODIFIED; // GET and HEAD are the only methods served here
            }
        } else if (ifModifiedSince != null) {
            long since = seconds(ifModifiedSince);
            if (since >= 0 && lastModifiedSeconds <= since) {
                return Outcome.NOT_MODIFIED;
            }
        }
        return Outcome.PROCEED;
    }

    /** If-Range: honour the Range only when the validator still names this representation (strong comparison). */
    static boolean rangeStillValid(String ifRange, String etag, long lastModifiedSeconds) {
        if (ifRange == null) {
            return true;
        }
        String v = ifRange.strip();
        if (v.startsWith("\"") || v.startsWith("W/")) {
            return v.equals(etag);
        }
        return seconds(v) == lastModifiedSeconds;
    }

    private static boolean matches(String header, String etag, boolean strong) {
        return Arrays.stream(header.split(",")).map(String::strip).anyMatch(tag -> {
            if (tag.equals("*")) {
                return true;
            }
            if (strong) {
                return tag.equals(etag);
            }
            return stripWeak(tag).equals(stripWeak(etag));
        });
    }

    private static String stripWeak(String tag) {
        return tag.startsWith("W/") ? tag.substring(2) : tag;
    }

    /** Seconds since the epoch, or -1 when the text is not an HTTP date (then the condition is ignored). */
    private static long seconds(String httpDate) {
        return HttpDates.seconds(httpDate);
    }
}
