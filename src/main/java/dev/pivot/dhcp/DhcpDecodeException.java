package dev.pivot.dhcp;

/** A datagram that is not a well-formed DHCP packet; the message says what is wrong. The server drops it. */
public final class DhcpDecodeException extends Exception {

    public DhcpDecodeException(String reason) {
        super(reason);
    }
}
