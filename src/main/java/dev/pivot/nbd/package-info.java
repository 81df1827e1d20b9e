/**
 * Pivot's read-only NBD server (NetworkBlockDevice/nbd doc/proto.md): stage 1 attaches the root image as a block
 * device and reads only the blocks the machine touches, so an image larger than the machine's RAM boots.
 *
 * <p>{@link dev.pivot.nbd.codec} decodes and encodes the wire (fixed newstyle handshake, options, requests,
 * simple replies); {@link dev.pivot.nbd.NbdServer} accepts connections, each on a platform thread of its own
 * (see there why not a virtual one), at most {@code maxConnections} at once. Decisions worth knowing:
 * <ul>
 *   <li>exports are content-addressed root images named by their sha256; the empty name is the served image;</li>
 *   <li>every export is flagged read-only; writes, trims and write-zeroes get EPERM (a write's data is read and
 *       dropped, so the connection stays in step); flush succeeds (nothing to flush);</li>
 *   <li>a small read's reply (up to 64 KiB) is read into the connection's buffer behind its header and sent in one
 *       call; a larger one is its header, held back with MSG_MORE, then the bytes from the image file
 *       ({@code ReplySender}): one sendfile up to 256 KiB, a splice through the connection's own pipe for a
 *       large one sent beside others, a copy through its buffer for a large one sent alone; one descriptor per file,
 *       shared by every connection reading it ({@code ExportFiles}). Whatever the request size (at most 32 MiB, the
 *       spec's default maximum payload), the file is never mapped and buffers are of fixed size, so the server's RSS
 *       does not grow with what it serves;</li>
 *   <li>a wrong magic, impossible option data or a handshake that does not finish in time closes that connection
 *       with one log line; an unknown export gets NBD_REP_ERR_UNKNOWN; an unknown option NBD_REP_ERR_UNSUP;</li>
 *   <li>structured replies and TLS are not offered (simple replies only; the kernel's client needs neither).</li>
 * </ul>
 *
 * <p>Imports only {@link dev.pivot.boot}; never another protocol adapter.
 */
package dev.pivot.nbd;
