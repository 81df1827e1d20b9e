package dev.pivot.server;

import dev.pivot.boot.BootSource;
import dev.pivot.history.StallDeadlines;

import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Everything `pivot serve` can be told, as plain data: the CLI maps its flags onto this, and the demo, the tests
 * and the benchmarks start Pivot from it ({@link ServeProcess#start}).
 *
 * @param source           what is served: an image directory (a NixOS netboot build, a generic image), or a
 *                         kernel with initrds and a command line
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
 * @param efiLoader        what UEFI x86-64 PXE clients load first: "grub" (shim, then Debian's signed GRUB: boots
 *                         with Secure Boot on or off) or an iPXE build ("ipxe.efi", "snponly.efi")
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
 * @param logFormat        the timeline's lines: with the time, without (the journal has it), or JSON
 * @param gcAfterDays      on start, remove artifacts nothing uses that were not imported for this many days (0: never)
 * @param generations      how many builds of each profile are kept (by count, by age) and the boot menu's timeout
 * @param ipv6Ra           where DHCP is served, answer IPv6 router solicitations with "no router here" while no
 *                         IPv6 router advertises on the link (iPXE then does not wait for IPv6 autoconfiguration)
 * @param stallDeadlines   how long a boot may stay at each step before its session is marked stalled
 * @param rootTransport    how stage 1 reaches the root image: fetched over HTTP into RAM, or attached over NBD
 * @param nbdPort          the NBD server's port (it runs with --root-transport nbd); 0 picks a free port
 * @param limits           what one client and all of them may hold (transfers, connections, downloads, bodies)
 * @param cluster          where full DHCP's leases live (this server's journal, or the store several servers share)
 *                         and the name this server goes by among them
 */
public record ServerConfig(BootSource source, Where where, DhcpMode dhcp, Optional<String> range, Optional<String> router,
                           int httpPort, int tftpPort, Optional<Path> tftpRoot, OptionalInt tftpMaxBlockSize,
                           Optional<Path> apiTokenFile, boolean protectReads, Path state, String efiLoader,
                           Optional<String> database, Optional<Path> profiles, Path ipxeDir, boolean ipxeUpgrade,
                           Optional<String> init, Stage1Mode stage1, boolean skipCheck, OptionalLong machineRamBytes,
                           boolean timeline, int eventQueue, LogFormat logFormat, int gcAfterDays,
                           dev.pivot.boot.GenerationPolicy generations, boolean ipv6Ra,
                           StallDeadlines stallDeadlines, RootTransport rootTransport, int nbdPort, Limits limits,
                           Cluster cluster) {

    /** Where full DHCP keeps its leases. */
    public enum DhcpLeases {
        /** STATE/dhcp-leases, this server's own (one server per range). */
        JOURNAL,
        /** The PostgreSQL store named by --database, shared by every server that serves the range. */
        STORE
    }

    /**
     * @param leases where full DHCP's leases live
     * @param name   this server's name in the store's heartbeat rows and leases; empty: the host's name
     */
    public record Cluster(DhcpLeases leases, Optional<String> name) {
        public static final Cluster ALONE = new Cluster(DhcpLeases.JOURNAL, Optional.empty());
    }

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
     * @param dhcpOffersPerMac     DHCP offers to one MAC per minute
     * @param dhcpOffersPerSource  DHCP offers per second to machines without a lease, per relay or sender
     * @param dhcpKnownOnly        DHCP answers only machines Pivot knows (a record, an assignment, a group)
     */
    public record Limits(int tftpTransfers, int tftpPerClient, int tftpWindowBytes, int httpConnections,
                         int httpConnectionsPerIp, int httpIdleSeconds, int httpDownloads, int httpDownloadsPerIp,
                         int eventStreams, int apiBodyBytes, boolean trustHostHeader,
                         int dhcpOffersPerMac, int dhcpOffersPerSource, boolean dhcpKnownOnly) {

        public static final Limits DEFAULTS = new Limits(256, 8, 96 * 1024, 4096, 64, 30, 2048, 16, 64, 64 * 1024,
                false, dev.pivot.dhcp.OfferGuard.Limits.DEFAULTS.perMacPerMinute(),
                dev.pivot.dhcp.OfferGuard.Limits.DEFAULTS.perSourcePerSecond(), false);

        public dev.pivot.dhcp.OfferGuard.Limits dhcpOffers() {
            return new dev.pivot.dhcp.OfferGuard.Limits(dhcpOffersPerMac, dhcpOffersPerSource, dhcpKnownOnly);
        }
    }

    public enum DhcpMode { PROXY, FULL, OFF }

    /** Which stage 1 the machines run. */
    public enum Stage1Mode {
        /** Pivot's prelude fetches the root image after boot. */
        PRELUDE,
        /** The root image goes as a second initrd to the image's own stage 1 (NixOS's netboot way). */
        NATIVE
    }

    /** How stage 1 reaches the root image. */
    public enum RootTransport {
        /** Fetched whole over HTTP into RAM and checked (sha256) before it is mounted. */
        HTTP,
        /** Attached as /dev/nbd0 from Pivot's NBD server and read block by block as the machine needs them. */
        NBD
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
    /** {@link #efiLoader()}'s default: the Secure Boot chain, shim then GRUB. */
    public static final String GRUB_LOADER = "grub";
    /** Long enough that a build rolled back to after weeks is still there. */
    public static final int DEFAULT_GC_AFTER_DAYS = 30;
    /** NBD's IANA port. */
    public static final int DEFAULT_NBD_PORT = 10809;

    /** The defaults of `pivot serve IMAGE --listen/--interface …`: ProxyDHCP, ports 67/69/80, /var/lib/pivot. */
    public static Builder builder(Path image, Where where) {
        return new Builder(new BootSource.ImageDir(image), where);
    }

    /** The same defaults, serving {@code source} (a kernel with initrds, say). */
    public static Builder builder(BootSource source, Where where) {
        return new Builder(source, where);
    }

    /**
     * Sets what differs from the defaults (tests and benchmarks start Pivot with free ports, no DHCP, a state
     * directory of their own), then {@link #build}.
     */
    public static final class Builder {
        private final BootSource image;
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
        private String efiLoader = GRUB_LOADER;
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
        private LogFormat logFormat = LogFormat.TEXT;
        private int gcAfterDays = DEFAULT_GC_AFTER_DAYS;
        private dev.pivot.boot.GenerationPolicy generations = dev.pivot.boot.GenerationPolicy.DEFAULT;
        private boolean ipv6Ra = true;
        private StallDeadlines stallDeadlines = StallDeadlines.DEFAULT;
        private RootTransport rootTransport = RootTransport.HTTP;
        private int nbdPort = DEFAULT_NBD_PORT;
        private Limits limits = Limits.DEFAULTS;
        private Cluster cluster = Cluster.ALONE;

        private Builder(BootSource image, Where where) {
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

        public Builder gcAfterDays(int days) {
            this.gcAfterDays = days;
            return this;
        }

        public Builder logFormat(LogFormat format) {
            this.logFormat = format;
            return this;
        }

        public Builder eventQueue(int events) {
            this.eventQueue = events;
            return this;
        }

        public Builder generations(dev.pivot.boot.GenerationPolicy policy) {
            this.generations = policy;
            return this;
        }

        public Builder ipv6Ra(boolean on) {
            this.ipv6Ra = on;
            return this;
        }

        public Builder stallDeadlines(StallDeadlines deadlines) {
            this.stallDeadlines = deadlines;
            return this;
        }

        public Builder rootTransport(RootTransport transport, int port) {
            this.rootTransport = transport;
            this.nbdPort = port;
            return this;
        }

        public Builder limits(Limits l) {
            this.limits = l;
            return this;
        }

        public Builder cluster(Cluster c) {
            this.cluster = c;
            return this;
        }

        public ServerConfig build() {
            return new ServerConfig(image, where, dhcp, range, router, httpPort, tftpPort, tftpRoot,
                    tftpMaxBlockSize, apiTokenFile, protectReads, state, efiLoader, database, profiles, ipxeDir,
                    ipxeUpgrade, init, stage1, skipCheck, machineRamBytes, timeline, eventQueue, logFormat,
                    gcAfterDays, generations, ipv6Ra, stallDeadlines, rootTransport, nbdPort, limits, cluster);
        }
    }

    /** The default stall deadlines with `--stall-after STEP=SECONDS` overrides applied. */
    public static StallDeadlines stallDeadlines(java.util.List<String> overrides) {
        return StallDeadlines.DEFAULT.with(overrides);
    }

    /** STATE/api-token unless another file was named. */
    public Path tokenFile() {
        return apiTokenFile.orElse(state.resolve("api-token"));
    }
}
