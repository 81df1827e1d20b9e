package dev.pivot.ndp;

/** A router solicitation or advertisement that is not well formed; the message is dropped. */
public final class NdpDecodeException extends Exception {
    public NdpDecodeException(String message) {
        super(message);
    }
}
