package dev.pivot.dhcp;

import java.util.Optional;

/** DHCP option 53 values (RFC 2132 §9.6). */
public enum MessageType {
    DISCOVER(1), OFFER(2), REQUEST(3), DECLINE(4), ACK(5), NAK(6), RELEASE(7), INFORM(8);

    public final int code;

    MessageType(int code) {
        this.code = code;
    }

    public static Optional<MessageType> of(int code) {
        for (MessageType t : values()) {
            if (t.code == code) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
