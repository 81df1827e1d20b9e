package dev.pivot.http;

/** A request Pivot refuses with 400; the message is the one-line reason sent back and logged. */
final class BadRequest extends RuntimeException {

    BadRequest(String reason) {
        super(reason, null, false, false);
    }
}
