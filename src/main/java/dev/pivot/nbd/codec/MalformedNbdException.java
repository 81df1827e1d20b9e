package dev.pivot.nbd.codec;

/** Bytes that break the NBD protocol (a wrong magic, an impossible length): the connection is closed. */
public final class MalformedNbdException extends Exception {
    public MalformedNbdException(String message) {
        super(message);
    }
}
