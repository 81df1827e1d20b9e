package dev.pivot.tftp;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How the TFTP server listens and how far it goes in negotiation and retransmission.
 *
 * @param bind           address the listener and every transfer socket bind to
 * @param port           the listener's port (69 in production; tests use a high port)
 * @param roots          directories served, searched in order
 * @param maxBlockSize   largest blksize granted; 1468 keeps a DATA packet inside a 1500-byte Ethernet MTU
 *                       (1468 + 4 TFTP + 8 UDP + 20 IP = 1500)
 * @param maxWindowSize  largest windowsize granted (RFC 7440)
 * @param minTimeout     lower bound of the adaptive retransmission timeout
 * @param maxTimeout     upper bound of the adaptive retransmission timeout (also after doubling)
 * @param initialTimeout timeout before any round trip has been measured
 * @param maxRetries     retransmissions of one packet/window before the transfer may be given up
 * @param giveUpAfter    ... and only once nothing moved for this long: clients re-ACK on their own timeout,
 *                       often 5 s (atftp, curl), so giving up after 6 quick retries (~5 s) would abandon
 *                       transfers a client was about to resume
 */
public record TftpConfig(InetAddress bind, int port, List<Path> roots, int maxBlockSize, int maxWindowSize,
                         Duration minTimeout, Duration maxTimeout, Duration initialTimeout, int maxRetries,
                         Duration giveUpAfter) {

    /** The distro's iPXE binaries (Debian package `ipxe`: undionly.kpxe, ipxe.efi, snponly.efi). */
    public static final Path DISTRO_IPXE = Path.of("/usr/lib/ipxe");

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
        roots = List.copyOf(roots);
    }

    /**
     * Defaults: blksize ≤ 1468, windowsize ≤ 64, timeout 50 ms..2 s (500 ms before the first sample), give up after
     * 6 retries and 15 s without progress.
     */
    public static TftpConfig defaults(InetAddress bind, int port, List<Path> roots) {
        return new TftpConfig(bind, port, roots, 1468, 64, Duration.ofMillis(50), Duration.ofSeconds(2),
                Duration.ofMillis(500), 6, Duration.ofSeconds(15));
    }

    /** The operator's roots first, then the distro's iPXE directory when it exists. */
    public static List<Path> rootsWithDistroIpxe(List<Path> tftpRoots) {
        List<Path> roots = new ArrayList<>(tftpRoots);
        if (Files.isDirectory(DISTRO_IPXE) && !roots.contains(DISTRO_IPXE)) {
            roots.add(DISTRO_IPXE);
        }
        return roots;
    }

    public TftpConfig withMaxBlockSize(int blockSize) {
        return new TftpConfig(bind, port, roots, blockSize, maxWindowSize, minTimeout, maxTimeout, initialTimeout,
                maxRetries, giveUpAfter);
    }

    public TftpConfig withMaxWindowSize(int windowSize) {
        return new TftpConfig(bind, port, roots, maxBlockSize, windowSize, minTimeout, maxTimeout, initialTimeout,
                maxRetries, giveUpAfter);
    }
}
