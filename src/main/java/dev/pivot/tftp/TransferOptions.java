package dev.pivot.tftp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The outcome of option negotiation for one read (RFC 2347 framework; 2348 blksize; 2349 tsize and timeout;
 * 7440 windowsize).
 *
 * @param blockSize      payload bytes per DATA packet
 * @param windowSize     DATA packets sent before waiting for an ACK
 * @param timeoutSeconds the client's fixed retransmission timeout, when it asked for one and we accepted it
 * @param acknowledged   what goes into the OACK, in the client's order; empty means no OACK is sent and the
 *                       transfer starts with DATA block 1 as in RFC 1350
 */
public record TransferOptions(int blockSize, int windowSize, OptionalInt timeoutSeconds,
                              Map<String, String> acknowledged) {

    public static final int DEFAULT_BLOCK_SIZE = 512, MIN_BLOCK_SIZE = 8, MAX_BLOCK_SIZE = 65464;

    /** The client asked for something we cannot honour at all; the answer is ERROR 8. */
    public static final class Refused extends Exception {
        public Refused(String message) {
            super(message);
        }
    }

    /**
     * Negotiates a read. Unknown options are ignored (RFC 2347). Out-of-range values of options whose meaning is
     * still clear are clamped (blksize above our max, windowsize above our cap) as RFC 2348 allows; values that
     * make no sense (blksize below 8, windowsize 0, text where a number belongs) are refused.
     *
     * @param size the file's size, or -1 when it is not known up front (netascii); tsize is acknowledged only
     *             for a known, non-zero size
     */
    public static TransferOptions negotiate(Map<String, String> requested, TftpConfig config, long size)
            throws Refused {
        int blockSize = DEFAULT_BLOCK_SIZE;
        int windowSize = 1;
        OptionalInt timeout = OptionalInt.empty();
        Map<String, String> acknowledged = new LinkedHashMap<>();
        for (Map.Entry<String, String> option : requested.entrySet()) {
            String value = option.getValue().trim();
            switch (option.getKey()) {
                case "blksize" -> {
                    long asked = number("blksize", value);
                    if (asked < MIN_BLOCK_SIZE) {
                        throw new Refused("blksize " + asked + " is below " + MIN_BLOCK_SIZE);
                    }
                    blockSize = (int) Math.min(asked, config.maxBlockSize());
                    acknowledged.put("blksize", Integer.toString(blockSize));
                }
                case "windowsize" -> {
                    long asked = number("windowsize", value);
                    if (asked < 1) {
                        throw new Refused("windowsize " + asked + " is below 1");
                    }
                    windowSize = (int) Math.min(asked, config.maxWindowSize());
                    acknowledged.put("windowsize", Integer.toString(windowSize));
                }
                case "tsize" -> {
                    number("tsize", value);
                    // Not for empty files: curl (7.88, Debian 12) rejects "tsize 0" in an OACK as invalid and
                    // aborts; leaving an option out of the OACK is always allowed (RFC 2347).
                    if (size > 0) {
                        acknowledged.put("tsize", Long.toString(size));
                    }
                }
                case "timeout" -> {
                    // RFC 2349: a value we do not accept is simply not acknowledged.
                    long asked = parse(value);
                    if (asked >= 1 && asked <= 255) {
                        timeout = OptionalInt.of((int) asked);
                        acknowledged.put("timeout", Long.toString(asked));
                    }
                }
                default -> { }
            }
        }
        // The window's memory (windowsize x blksize, held until acknowledged) is capped whatever order the
        // options came in: a client asking for a big window and acknowledging nothing must not pin more.
        int byMemory = Math.max(1, config.limits().windowBytes() / blockSize);
        if (windowSize > byMemory) {
            windowSize = byMemory;
            acknowledged.put("windowsize", Integer.toString(windowSize));
        }
        return new TransferOptions(blockSize, windowSize, timeout, acknowledged);
    }

    private static long number(String name, String value) throws Refused {
        long parsed = parse(value);
        if (parsed < 0) {
            throw new Refused(name + " value '" + value + "' is not a number");
        }
        return parsed;
    }

    /** Non-negative decimal (saturating at Long.MAX_VALUE), or -1 when the text is not one. */
    private static long parse(String value) {
        if (value.isEmpty() || value.length() > 18 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return value.length() > 18 && value.chars().allMatch(c -> c >= '0' && c <= '9') ? Long.MAX_VALUE : -1;
        }
        return Long.parseLong(value);
    }
}
