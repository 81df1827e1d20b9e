package dev.pivot.tftp;

/** A datagram that is not a well-formed TFTP packet; the message says what is wrong with it. */
public final class MalformedPacketException extends Exception {
    public MalformedPacketException(String message) {
        super(message);
    }
}
