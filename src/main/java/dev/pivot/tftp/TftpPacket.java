package dev.pivot.tftp;

import java.util.Map;

/**
 * The TFTP packets of RFC 1350 plus the option acknowledgement of RFC 2347. Option maps keep the order the peer
 * sent them in and have lower-case names (option names are case-insensitive on the wire).
 */
public sealed interface TftpPacket {

    int RRQ = 1, WRQ = 2, DATA = 3, ACK = 4, ERROR = 5, OACK = 6;

    /** A read request; {@code mode} is lower-case ("octet", "netascii", "mail" or whatever the peer sent). */
    record ReadRequest(String filename, String mode, Map<String, String> options) implements TftpPacket {
        public ReadRequest {
            options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
        }
    }

    record WriteRequest(String filename, String mode, Map<String, String> options) implements TftpPacket {
        public WriteRequest {
            options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
        }
    }

    /** {@code block} is the 16-bit wire number (0..65535); payload is at most the negotiated block size. */
    record Data(int block, byte[] payload, int offset, int length) implements TftpPacket {
        public Data(int block, byte[] payload) {
            this(block, payload, 0, payload.length);
        }
    }

    record Ack(int block) implements TftpPacket { }

    record Error(int code, String message) implements TftpPacket {
        public static final int NOT_DEFINED = 0, FILE_NOT_FOUND = 1, ACCESS_VIOLATION = 2, DISK_FULL = 3,
                ILLEGAL_OPERATION = 4, UNKNOWN_TID = 5, FILE_EXISTS = 6, NO_SUCH_USER = 7, OPTION_REFUSED = 8;
    }

    record OptionAck(Map<String, String> options) implements TftpPacket {
        public OptionAck {
            options = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
        }
    }
}
