/**
 * Pivot's HTTP side on Jetty 12 core (no servlets): {@code /boot.ipxe} scripts (rendered by
 * {@link dev.pivot.loaders.IpxeScript}), content-addressed {@code /artifacts/<sha256>/<name>} with single byte
 * ranges, strong ETags and conditional requests, stage-1 {@code /report}s, and the distro's iPXE binaries under
 * {@code /ipxe/} (the routes: {@link dev.pivot.loaders.Routes}). Imports {@link dev.pivot.boot} for what it serves
 * and reports, and {@link dev.pivot.loaders} for the scripts and routes; never another protocol adapter.
 *
 * <p>Choices worth knowing:
 * <ul>
 *   <li>Requests run on virtual threads and write blocking; files are streamed with positional FileChannel reads
 *       into one pooled buffer per transfer. Jetty's ResourceHandler is not used, so its file mapping
 *       ({@code setUseFileMapping}, int-sized MappedByteBuffers that break ranges past 2 GiB) never applies.</li>
 *   <li>Several satisfiable ranges in one request get the whole artifact with 200 (RFC 9110 lets a server ignore
 *       Range); one satisfiable range gets a single-part 206; none gets 416 with {@code Content-Range: bytes *}/size.</li>
 *   <li>Every reply carries Content-Length (iPXE stalls without it); a 304 carries the size a 200 would have.</li>
 *   <li>Each finished artifact transfer is one BootEvent (KERNEL / INITRD / ROOT_IMAGE by the machine's spec),
 *       failed when the client left early; the machine comes from {@code ?mac=} or the AddressBook.</li>
 * </ul>
 */
package dev.pivot.http;
