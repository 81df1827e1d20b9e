package dev.pivot.tftp;

import java.time.Duration;

/**
 * What one client, and all of them together, may hold of the TFTP server. A transfer holds a socket and its window
 * of blocks until it ends (no thread: the event loops drive it), so these bound descriptors and memory.
 *
 * @param transfers       transfers at once in total; past it an RRQ gets ERROR 0 "server busy" at once
 * @param perClient       transfers at once from one client address (a PXE ROM runs one, iPXE one or two)
 * @param windowBytes     the most one transfer's window may hold (windowsize x blksize); a larger window is
 *                        negotiated down, so {@code transfers x windowBytes} bounds the memory of all windows
 * @param handshakeGiveUp how long a transfer retransmits without any ACK (of the OACK or of block 1) before its
 *                        last copy, after which it waits once longer than a client's own timer and is given up:
 *                        a client that never acknowledged anything is not resuming a transfer, and holding its
 *                        slot for the full give-up time is what a request flood relies on
 */
public record TftpLimits(int transfers, int perClient, int windowBytes, Duration handshakeGiveUp) {

    /** A rack of a few thousand machines powering on together, about a hundred of them in PXE at once. */
    public static final TftpLimits DEFAULTS = new TftpLimits(256, 8, 96 * 1024, Duration.ofSeconds(6));

    public TftpLimits {
        if (transfers < 1 || perClient < 1) {
            throw new IllegalArgumentException("TFTP transfer limits must be at least 1 (total " + transfers
                    + ", per client " + perClient + ")");
        }
        if (windowBytes < TransferOptions.MAX_BLOCK_SIZE) {
            throw new IllegalArgumentException("TFTP window memory " + windowBytes + " is below one largest block ("
                    + TransferOptions.MAX_BLOCK_SIZE + ")");
        }
        if (handshakeGiveUp.isNegative() || handshakeGiveUp.isZero()) {
            throw new IllegalArgumentException("TFTP handshake give-up " + handshakeGiveUp + " is not positive");
        }
    }
}
