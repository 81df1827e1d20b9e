package dev.pivot.http;

/**
 * A request Pivot refuses with 400; the message is the one-line reason sent back and logged. An
 * IllegalArgumentException so that routes outside this package (the API) refuse it the same way.
 */
final class BadRequest extends IllegalArgumentException {

    BadRequest(String reason) {
        super(reason);
    }

    /** A refusal is the client's doing, not a bug: no stack trace to capture. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
