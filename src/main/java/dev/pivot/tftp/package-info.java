/**
 * Pivot's read-only TFTP server (RFC 1350 with options: 2347 OACK, 2348 blksize, 2349 tsize/timeout,
 * 7440 windowsize).
 *
 * <p>{@link dev.pivot.tftp.TftpServer} listens on one port and starts a {@link dev.pivot.tftp.ReadTransfer} per
 * read request, each on its own ephemeral port; a few event loops ({@link dev.pivot.tftp.TftpLoop}, one selector
 * thread per two CPUs) drive every transfer and its timers, so a transfer costs no thread. {@link dev.pivot.tftp.TftpFiles}
 * confines names to the roots (operator's directories, then {@code /usr/lib/ipxe}, then generated files).
 * Decisions worth knowing:
 * <ul>
 *   <li>blksize is clamped to {@code maxBlockSize} (what fits the serving interface's MTU unfragmented, 1468 on
 *       Ethernet; {@code --tftp-max-blksize} overrides), windowsize to
 *       {@code maxWindowSize} (64); blksize below 8, windowsize 0 or non-numeric values get ERROR 8;</li>
 *   <li>tsize is acknowledged only for a known non-zero size: not for netascii (size unknown before conversion)
 *       and not for empty files (curl 7.88 aborts on "tsize 0");</li>
 *   <li>the client's timeout option is acknowledged but only caps the adaptive retransmission timeout;</li>
 *   <li>retransmissions are fast (RTT-based, floor 10 ms); from the second retry of a block on (the first, once
 *       the client was seen ignoring repeated blocks) they also probe: the blocks after the window up to one past
 *       the highest block sent, which is what a client whose ACK was lost waits for (busybox ignores repeats,
 *       atftp answers one). Unanswered for as many rounds as the loss seen makes plausible, the transfer goes
 *       quiet for 6 s so the client's own timer can fire ({@link dev.pivot.tftp.RetrySchedule});</li>
 *   <li>on a fast link the loop polls briefly for the ACK instead of sleeping ({@link dev.pivot.tftp.AckSpin}),
 *       at most half the CPUs at once: in lock-step the wake-up costs as much as the round trip;</li>
 *   <li>an ERROR from the client right after our OACK is treated as the client's choice (PXE firmware probes
 *       tsize that way), logged, and not reported as a failed boot step;</li>
 *   <li>a retransmitted RRQ identical to a running transfer's (same client port) is ignored.</li>
 * </ul>
 *
 * <p>Imports only {@link dev.pivot.boot}; never another protocol adapter.
 */
package dev.pivot.tftp;
