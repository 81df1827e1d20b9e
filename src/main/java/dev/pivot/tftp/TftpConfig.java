package dev.pivot.tftp;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;

/**
 * How the TFTP server listens and how far it goes in negotiation and retransmission.
 *
 * @param bind           address the listener and every transfer socket bind to
 * @param port           the listener's port (69 in production; tests use a high port)
 * @param roots          directories served, searched in order
 * @param maxBlockSize   largest blksize granted; 1468 keeps a DATA packet inside a 1500-byte Ethernet MTU
 *                       (1468 + 4 TFTP + 8 UDP + 20 IP = 1500); {@code pivot serve} takes it from the serving
 *                       interface's MTU ({@link #blockSizeForMtu}) unless --tftp-max-blksize says otherwise
 * @param maxWindowSize  largest windowsize granted (RFC 7440)
 * @param minTimeout     lower bound of the adaptive retransmission timeout
 * @param maxTimeout     upper bound of the adaptive retransmission timeout (also after doubling)
 * @param initialTimeout timeout before any round trip has been measured
 * @param maxRetries     retransmissions of one packet/window before the transfer may be given up
 * @param giveUpAfter    ... and only once nothing moved for this long: clients re-ACK on their own timeout,
 *                       often 5 s (atftp, curl), so giving up after 6 quick retries (~5 s) would abandon
 *                       transfers a client was about to resume
 * @param quietTimeout   the wait after the fast retries failed (see {@code RetrySchedule}): longer than the
 *                       clients' own re-ACK timer (5 s in atftp and curl), so that a client which stopped answering
 *                       duplicates (atftp) re-sends its ACK
 * @param limits         how many transfers at once, per client and in total, and how much memory each may hold
 */
public record TftpConfig(InetAddress bind, int port, List<Path> roots, int maxBlockSize, int maxWindowSize,
                         Duration minTimeout, Duration maxTimeout, Duration initialTimeout, int maxRetries,
                         Duration giveUpAfter, Duration quietTimeout, TftpLimits limits) {

    /** With the default {@link TftpLimits}. */
    public TftpConfig(InetAddress bind, int port, List<Path> roots, int maxBlockSize, int maxWindowSize,
                      Duration minTimeout, Duration maxTimeout, Duration initialTimeout, int maxRetries,
                      Duration giveUpAfter, Duration quietTimeout) {
        this(bind, port, roots, maxBlockSize, maxWindowSize, minTimeout, maxTimeout, initialTimeout, maxRetries,
                giveUpAfter, quietTimeout, TftpLimits.DEFAULTS);
    }

    public TftpConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("TFTP port " + port + " is not in 0..65535");
        }
        if (maxBlockSize < TransferOptions.MIN_BLOCK_SIZE || maxBlockSize > TransferOptions.MAX_BLOCK_SIZE) {
            throw new IllegalArgumentException("TFTP max block size " + maxBlockSize + " is not in "
                    + TransferOptions.MIN_BLOCK_SIZE + ".." + TransferOptions.MAX_BLOCK_SIZE);
        }
        if (maxWindowSize < 1 || maxWindowSize > 65535) {
            throw new IllegalArgumentException("TFTP max window size " + maxWindowSize + " is not in 1..65535");
        }
        if (minTimeout.isNegative() || minTimeout.isZero() || maxTimeout.compareTo(minTimeout) < 0) {
            throw new IllegalArgumentException("TFTP timeouts need 0 < min (" + minTimeout + ") <= max ("
                    + maxTimeout + ")");
        }
        if (maxRetries < 0) {
            throw new IllegalArgumentException("TFTP max retries " + maxRetries + " is negative");
        }
        if (giveUpAfter.isNegative()) {
            throw new IllegalArgumentException("TFTP give-up time " + giveUpAfter + " is negative");
        }
        if (quietTimeout.isNegative() || quietTimeout.isZero()) {
            throw new IllegalArgumentException("TFTP quiet timeout " + quietTimeout + " is not positive");
        }
        roots = List.copyOf(roots);
        java.util.Objects.requireNonNull(limits, "limits");
    }

    /**
     * Defaults: blksize ≤ 1468, windowsize ≤ 64, timeout MIN_TIMEOUT..2 s (500 ms before the first sample), 6 s
     * quiet wait after the fast retries, give up after 6 retries and 20 s without progress (room for two quiet
     * waits, so a client that lost its re-ACK once more still gets a second chance).
     */
    public static TftpConfig defaults(InetAddress bind, int port, List<Path> roots) {
        return new TftpConfig(bind, port, roots, ETHERNET_BLOCK_SIZE, 64, MIN_TIMEOUT, Duration.ofSeconds(2),
                Duration.ofMillis(500), 6, Duration.ofSeconds(20), Duration.ofSeconds(6));
    }

    /**
     * Floor of the adaptive timeout. Measured (bench/README.md, TFTP section): at 5 % loss in lock-step most of
     * the transfer time was spent waiting out a 50 ms floor on a link whose round trip is ~0.1 ms. A spurious
     * retransmission costs one packet (duplicate ACKs never trigger sends), a late one costs the whole floor.
     */
    public static final Duration MIN_TIMEOUT = Duration.ofMillis(10);

    /** Bytes around a DATA block on the wire: IPv4 20, UDP 8, TFTP 4. */
    static final int DATA_OVERHEAD = 32;
    /** What fits a 1500-byte Ethernet MTU. */
    static final int ETHERNET_BLOCK_SIZE = 1500 - DATA_OVERHEAD;

    /**
     * The largest blksize whose DATA packets fit the interface's MTU unfragmented (1468 for Ethernet's 1500), within
     * RFC 2348's range. A fragmented DATA packet is lost whole when any fragment is, and some PXE ROMs do not
     * reassemble at all.
     */
    public static int blockSizeForMtu(int mtu) {
        return Math.clamp(mtu - DATA_OVERHEAD, TransferOptions.DEFAULT_BLOCK_SIZE, TransferOptions.MAX_BLOCK_SIZE);
    }

    /** The MTU of the interface holding {@code address}, when the address is on one of this host's interfaces. */
    public static OptionalInt mtuOf(InetAddress address) {
        try {
            NetworkInterface nic = NetworkInterface.getByInetAddress(address);
            return nic == null ? OptionalInt.empty() : OptionalInt.of(nic.getMTU());
        } catch (SocketException e) {
            return OptionalInt.empty();
        }
    }

    /** The blksize ceiling for a server answering on {@code address}: its interface's, else Ethernet's 1468. */
    public static int maxBlockSizeFor(InetAddress address) {
        OptionalInt mtu = mtuOf(address);
        return mtu.isPresent() ? blockSizeForMtu(mtu.getAsInt()) : ETHERNET_BLOCK_SIZE;
    }

    public TftpConfig withMaxBlockSize(int blockSize) {
        return new TftpConfig(bind, port, roots, blockSize, maxWindowSize, minTimeout, maxTimeout, initialTimeout,
                maxRetries, giveUpAfter, quietTimeout, limits);
    }

    public TftpConfig withLimits(TftpLimits newLimits) {
        return new TftpConfig(bind, port, roots, maxBlockSize, maxWindowSize, minTimeout, maxTimeout, initialTimeout,
                maxRetries, giveUpAfter, quietTimeout, newLimits);
    }

    public TftpConfig withTimeouts(Duration min, Duration quiet) {
        return new TftpConfig(bind, port, roots, maxBlockSize, maxWindowSize, min, maxTimeout, initialTimeout,
                maxRetries, giveUpAfter, quiet, limits);
    }
}
