package dev.pivot.server;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Everything `pivot serve` can be told, as plain data: the CLI maps its flags onto this, and the demo, the tests
 * and the benchmarks start Pivot from it ({@link ServeProcess#start}).
 *
 * @param image            the image directory (a NixOS netboot build, or a generic image)
 * @param where            the interface to serve on, or the address to bind
 * @param dhcp             proxy (beside another DHCP server), full (addresses too, with {@code range}), off
 * @param range            FIRST-LAST, the addresses full DHCP leases
 * @param router           the default gateway full DHCP hands out
 * @param httpPort         0 picks a free port
 * @param tftpPort         0 picks a free port
 * @param tftpRoot         extra read-only TFTP files
 * @param tftpMaxBlockSize the largest blksize granted; empty: what fits the interface's MTU
 * @param apiTokenFile     the token API changes need; empty: STATE/api-token
 * @param protectReads     reads of the API, events and metrics need the token too
 * @param state            artifacts, leases and the event log (pivot.db)
 * @param efiLoader        the iPXE build for UEFI x86-64 PXE clients
 * @param database         a JDBC URL for the event log instead of STATE/pivot.db
 * @param profiles         profiles.yaml
 * @param ipxeDir          the distro's iPXE binaries
 * @param ipxeUpgrade      hand iPXE clients the distro's iPXE once before the script
 * @param init             generic images: the init to switch_root to
 * @param stage1           Pivot's prelude, or the image's own stage 1 with the root image as an initrd
 * @param skipCheck        serve even when the image check finds errors
 * @param machineRamBytes  the machines' RAM, for native mode's size check
 * @param timeline         print each boot event as a line of its machine's timeline on stdout
 * @param eventQueue       events the pipeline holds for the store before it starts losing them
 * @param limits           what one client and all of them may hold (transfers, connections, downloads, bodies)
 */
public record ServerConfig(Path image, Where where, DhcpMode dhcp, Optional<String> range, Optional<String> router,
                           int httpPort, int tftpPort, Optional<Path> tftpRoot, OptionalInt tftpMaxBlockSize,
                           Optional<Path> apiTokenFile, boolean protectReads, Path state, String efiLoader,
                           Optional<String> database, Optional<Path> profiles, Path ipxeDir, boolean ipxeUpgrade,
                           Optional<String> init, Stage1Mode stage1, boolean skipCheck, OptionalLong machineRamBytes,
                           boolean timeline, int eventQueue, Limits limits) {

    /**
     * Every bound of the protocol servers, with defaults for a rack of a few thousand machines booting together;
     * past a limit a request is refused at once and counted in {@code pivot_refused_total}.
     *
     * @param tftpTransfers        TFTP transfers at once
     * @param tftpPerClient        ... from one client address
     * @param tftpWindowBytes      memory of one transfer's window (windowsize x blksize is negotiated down to it)
     * @param httpConnections      open HTTP connections
     * @param httpConnectionsPerIp ... from one address
     * @param httpIdleSeconds      an HTTP connection silent this long (headers included) is closed
     * @param httpDownloads        artifact and iPXE downloads at once
     * @param httpDownloadsPerIp   ... from one address
     * @param eventStreams         live event streams (/api/v1/events) at once
     * @param apiBodyBytes         the largest API request body, checked before it is read
     * @param trustHostHeader      scripts name the server as the client's Host header did (behind a proxy)
     */
    public record Limits(int tftpTransfers, int tftpPerClient, int tftpWindowBytes, int httpConnections,
                         int httpConnectionsPerIp, int httpIdleSeconds, int httpDownloads, int httpDownloadsPerIp,
                         int eventStreams, int apiBodyBytes, boolean trustHostHeader) {

        public static final Limits DEFAULTS = new Limits(256, 8, 96 * 1024, 4096, 64, 30, 2048, 16, 64, 64 * 1024,
                false);
    }

    public enum DhcpMode { PROXY, FULL, OFF }

    /** Which stage 1 the machines run. */
    public enum Stage1Mode {
        /** Pivot's prelude fetches the root image after boot. */
        PRELUDE,
        /** The root image goes as a second initrd to the image's own stage 1 (NixOS's netboot way). */
        NATIVE
    }

    /** Where to serve: an interface (its first IPv4 address) or an address to bind. */
    public sealed interface Where {
        record Interface(String name) implements Where {
        }

        record Listen(String address) implements Where {
        }
    }

    public static final Path DEFAULT_STATE = Path.of("/var/lib/pivot");
    public static final Path DEFAULT_IPXE_DIR = Path.of("/usr/lib/ipxe");
    public static final int DEFAULT_EVENT_QUEUE = 65_536;

    /** The defaults of `pivot serve IMAGE --listen/--interface …`: ProxyDHCP, ports 67/69/80, /var/lib/pivot. */
    public static Builder builder(Path image, Where where) {
        return new Builder(image, where);
    }

    /**
     * Sets what differs from the defaults (tests and benchmarks start Pivot with free ports, no DHCP, a state
     * directory of their own), then {@link #build}.
     */
    public static final class Builder {
        private final Path image;
        private final Where where;
        private DhcpMode dhcp = DhcpMode.PROXY;
        private Optional<String> range = Optional.empty();
        private Optional<String> router = Optional.empty();
        private int httpPort = 80;
        private int tftpPort = 69;
        private Optional<Path> tftpRoot = Optional.empty();
        private OptionalInt tftpMaxBlockSize = OptionalInt.empty();
        private Optional<Path> apiTokenFile = Optional.empty();
        private boolean protectReads;
        private Path state = DEFAULT_STATE;
        private String efiLoader = "ipxe.efi";
        private Optional<String> database = Optional.empty();
        private Optional<Path> profiles = Optional.empty();
        private Path ipxeDir = DEFAULT_IPXE_DIR;
        private boolean ipxeUpgrade;
        private Optional<String> init = Optional.empty();
        private Stage1Mode stage1 = Stage1Mode.PRELUDE;
        private boolean skipCheck;
        private OptionalLong machineRamBytes = OptionalLong.empty();
        private boolean timeline = true;
        private int eventQueue = DEFAULT_EVENT_QUEUE;
        private Limits limits = Limits.DEFAULTS;

        private Builder(Path image, Where where) {
            this.image = image;
            this.where = where;
        }

        public Builder dhcp(DhcpMode mode, Optional<String> addresses) {
            this.dhcp = mode;
            this.range = addresses;
            return this;
        }

        public Builder ports(int http, int tftp) {
            this.httpPort = http;
            this.tftpPort = tftp;
            return this;
        }

        public Builder state(Path dir) {
            this.state = dir;
            return this;
        }

        public Builder database(Optional<String> url) {
            this.database = url;
            return this;
        }

        public Builder tftp(Optional<Path> root, OptionalInt maxBlockSize) {
            this.tftpRoot = root;
            this.tftpMaxBlockSize = maxBlockSize;
            return this;
        }

        public Builder profiles(Optional<Path> file) {
            this.profiles = file;
            return this;
        }

        public Builder ipxeDir(Path dir) {
            this.ipxeDir = dir;
            return this;
        }

        public Builder protectReads(boolean on) {
            this.protectReads = on;
            return this;
        }

        public Builder skipCheck(boolean on) {
            this.skipCheck = on;
            return this;
        }

        public Builder timeline(boolean on) {
            this.timeline = on;
            return this;
        }

        public Builder eventQueue(int events) {
            this.eventQueue = events;
            return this;
        }

        public Builder limits(Limits l) {
            this.limits = l;
            return this;
        }

        public ServerConfig build() {
            return new ServerConfig(image, where, dhcp, range, router, httpPort, tftpPort, tftpRoot,
                    tftpMaxBlockSize, apiTokenFile, protectReads, state, efiLoader, database, profiles, ipxeDir,
                    ipxeUpgrade, init, stage1, skipCheck, machineRamBytes, timeline, eventQueue, limits);
        }
    }

    /** STATE/api-token unless another file was named. */
    public Path tokenFile() {
        return apiTokenFile.orElse(state.resolve("api-token"));
    }
}
