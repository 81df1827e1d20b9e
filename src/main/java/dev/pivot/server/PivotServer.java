package dev.pivot.server;

import dev.pivot.api.ApiAccess;
import dev.pivot.api.ApiRoutes;
import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.BootSecrets;
import dev.pivot.boot.Refusals;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.dhcp.DhcpConfig;
import dev.pivot.dhcp.DhcpServer;
import dev.pivot.dhcp.FileLeaseStore;
import dev.pivot.history.EventPipeline;
import dev.pivot.http.HttpConfig;
import dev.pivot.http.HttpGuard;
import dev.pivot.http.PivotHttpServer;
import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.image.ImportedImage;
import dev.pivot.loaders.Routes;
import dev.pivot.profiles.ProfilesFile;
import dev.pivot.store.JdbcStore;
import dev.pivot.tftp.TftpConfig;
import dev.pivot.tftp.TftpFiles;
import dev.pivot.tftp.TftpLimits;
import dev.pivot.tftp.TftpServer;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.Inet4Address;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * The composition root: one {@link ServerConfig} in, the running Pivot out — the store, the event pipeline, HTTP
 * (boot routes, API, page, metrics), TFTP and DHCP — and {@link #close} stops them in the reverse order. `pivot
 * serve`, `pivot demo` (through `pivot serve`), the tests and the benchmarks all start Pivot here, so what is
 * measured is what ships.
 */
public final class PivotServer implements AutoCloseable {

    /** The image check or the import refused the image; why was printed on the error stream. */
    public static final class ImageRefused extends Exception {
        ImageRefused(Path dir) {
            super("not serving " + dir);
        }
    }

    private final ServerConfig config;
    private final Endpoint where;
    private final ImportedImage image;
    private final List<AutoCloseable> running;
    private final EventPipeline pipeline;
    private final JdbcStore store;
    private final PivotHttpServer http;
    private final TftpServer tftp;
    private final AddressBook addresses;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Refusals refusals;

    private PivotServer(ServerConfig config, Endpoint where, ImportedImage image, List<AutoCloseable> running,
                        EventPipeline pipeline, JdbcStore store, PivotHttpServer http, TftpServer tftp,
                        AddressBook addresses, Refusals refusals) {
        this.refusals = refusals;
        this.addresses = addresses;
        this.config = config;
        this.where = where;
        this.image = image;
        this.running = running;
        this.pipeline = pipeline;
        this.store = store;
        this.http = http;
        this.tftp = tftp;
    }

    /**
     * Checks every option, imports the image (and the profiles' images), then starts everything. Bad options throw
     * {@link IllegalArgumentException} naming the option before any work is done.
     */
    public static PivotServer start(ServerConfig config, PrintStream out, PrintWriter err)
            throws IOException, ImageRefused {
        OptionsCheck.check(config);
        Endpoint where = Endpoint.of(config.where());
        int tftpBlockSize = tftpBlockSize(config, where);
        DhcpSetup.config(config, where, config.httpPort()); // checked before any work; built again below
        Optional<ProfilesFile> profiles = config.profiles().map(ProfilesFile::parse);
        try {
            Files.createDirectories(config.state());
            StateDir.restrict(config.state());
        } catch (IOException e) {
            throw new IllegalArgumentException("--state " + config.state() + ": cannot make it ("
                    + (e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getMessage()) + ")");
        }

        ArtifactStore artifacts = StateDir.artifacts(config.state());
        ServedImage.Options options = new ServedImage.Options(config.stage1(), config.init().orElse(null),
                config.skipCheck(), config.machineRamBytes(), out, err);
        ServedImage served;
        try {
            served = ServedImage.prepare(config.image(), artifacts, options)
                    .orElseThrow(() -> new ImageRefused(config.image()));
        } catch (dev.pivot.image.ImageException | dev.pivot.stage1.Stage1Exception e) {
            throw new IllegalArgumentException(config.image() + ": " + e.getMessage(), e);
        }

        List<AutoCloseable> running = new ArrayList<>();
        try {
            // Boot history: the pipeline commits events to the store in batches, off every protocol thread.
            JdbcStore store = config.database().map(url -> JdbcStore.open(url, null, null))
                    .orElseGet(() -> JdbcStore.openSqlite(config.state().resolve("pivot.db")));
            running.add(store);
            EventPipeline pipeline = EventPipeline.over(store, config.eventQueue());
            running.add(pipeline);
            ProfileCatalog catalog = ProfileSetup.catalog(profiles, served.spec(),
                    dir -> ServedImage.prepare(dir, artifacts, options), store, store);
            DiskSpaceWatch disk = new DiskSpaceWatch(config.state(), java.time.Duration.ofSeconds(30));
            running.add(disk);
            ServerConfig.Limits limits = config.limits();
            Refusals refusals = new Refusals();
            ApiRoutes api = ApiRoutes.create(pipeline, store, store, catalog, store)
                    .requireToken(ApiAccess.fromFile(config.tokenFile(), config.protectReads()))
                    .limit(limits.apiBodyBytes(), limits.eventStreams(), refusals);
            api.gauge("pivot.state.free.bytes", "Bytes free in the state directory's file system (-1 before the"
                    + " first check)", disk::freeBytes);
            if (config.timeline()) {
                TimelinePrinter timeline = new TimelinePrinter(out);
                pipeline.onEvent(timeline::print);
                pipeline.onIdle(timeline::flush);
            }
            AddressBook addresses = new AddressBook();

            HttpGuard guard = new HttpGuard(BootSecrets.fromFile(config.state().resolve("boot-key")), refusals,
                    limits.httpConnections(), limits.httpConnectionsPerIp(),
                    java.time.Duration.ofSeconds(limits.httpIdleSeconds()), limits.httpDownloads(),
                    limits.httpDownloadsPerIp(), limits.eventStreams(), limits.apiBodyBytes(), limits.trustHostHeader());
            PivotHttpServer http = new PivotHttpServer(
                    new HttpConfig(where.bind(), config.httpPort(), Optional.empty(), config.ipxeDir()),
                    catalog, artifacts, addresses, pipeline, api, guard);
            http.start();
            running.add(http);

            // pxelinux.cfg/01-<mac> for loaders that read PXELINUX configs (u-root's pxeboot), same boot by HTTP.
            String baseUrl = Routes.baseUrl(where.address(), http.port());
            TftpFiles files = TftpFiles.withDistroIpxe(config.tftpRoot().map(List::of).orElse(List.of()),
                    config.ipxeDir(), new PxelinuxConfigs(catalog, baseUrl));
            TftpServer tftp = new TftpServer(TftpConfig.defaults(where.bind(), config.tftpPort(), files.roots())
                    .withMaxBlockSize(tftpBlockSize).withLimits(new TftpLimits(limits.tftpTransfers(),
                            limits.tftpPerClient(), limits.tftpWindowBytes(), TftpLimits.DEFAULTS.handshakeGiveUp())),
                    files, addresses, pipeline, refusals);
            tftp.start();
            running.add(tftp);

            Optional<DhcpConfig> dhcp = DhcpSetup.config(config, where, http.port());
            if (dhcp.isPresent()) {
                // Leases live in the state directory so a restart (or kill -9) keeps every address handed out.
                DhcpServer server = new DhcpServer(dhcp.get().withIpxeUpgrade(config.ipxeUpgrade()),
                        new BootPolicy(config.efiLoader()), addresses, pipeline,
                        new FileLeaseStore(config.state().resolve("dhcp-leases")), refusals);
                server.start();
                running.add(server);
            }
            StateDir.restrictFiles(config.state());
            return new PivotServer(config, where, served.image(), running, pipeline, store, http, tftp, addresses,
                    refusals);
        } catch (Exception e) {
            closeAll(running);
            if (e instanceof IOException io) {
                throw io;
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(e.getMessage(), e);
        }
    }

    /** --tftp-max-blksize, checked before anything starts, or what fits the MTU of the interface TFTP answers on. */
    private static int tftpBlockSize(ServerConfig config, Endpoint where) {
        if (config.tftpMaxBlockSize().isEmpty()) {
            return TftpConfig.maxBlockSizeFor(where.address());
        }
        int wanted = config.tftpMaxBlockSize().getAsInt();
        try {
            return TftpConfig.defaults(where.bind(), config.tftpPort(), List.of()).withMaxBlockSize(wanted)
                    .maxBlockSize();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tftp-max-blksize " + wanted + ": " + e.getMessage());
        }
    }

    public ServerConfig config() {
        return config;
    }

    public ImportedImage image() {
        return image;
    }

    /** The address machines reach this server at. */
    public Inet4Address address() {
        return where.address();
    }

    public int httpPort() {
        return http.port();
    }

    public int tftpPort() {
        try {
            return tftp.address().getPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The event pipeline: for waiting until events are recorded (tests) and for its health. */
    public EventPipeline events() {
        return pipeline;
    }

    /** Requests refused so far, by kind (over a limit, or without a per-boot secret). */
    public Refusals refusals() {
        return refusals;
    }

    /** HTTP connections open now. */
    public int httpConnections() {
        return http.openConnections();
    }

    /** TFTP transfers running now. */
    public int tftpTransfersRunning() {
        return tftp.runningTransfers();
    }

    /** Which machine uses which address, as DHCP learned it; TFTP and HTTP name machines by it. */
    public AddressBook addresses() {
        return addresses;
    }

    public JdbcStore store() {
        return store;
    }

    /** Blocks until {@link #close} was called (by a shutdown hook, say). */
    public void awaitClose() throws InterruptedException {
        closed.await();
    }

    @Override
    public void close() {
        synchronized (running) {
            closeAll(running);
        }
        closed.countDown();
    }

    /** Protocol servers first (no new events), then the pipeline (drains into the store), then the store. */
    private static void closeAll(List<AutoCloseable> running) {
        for (AutoCloseable c : running.reversed()) {
            try {
                c.close();
            } catch (Exception ignored) {
                // shutting down: nothing more to do with a close failure
            }
        }
        running.clear();
    }

    /** Where to bind and the address clients use, with the subnet's prefix length for full DHCP. */
    record Endpoint(java.net.InetAddress bind, Inet4Address address, int prefixLength, Optional<String> interfaceName) {

        static Endpoint of(ServerConfig.Where where) throws IOException {
            return switch (where) {
                case ServerConfig.Where.Listen l -> listen(l.address());
                case ServerConfig.Where.Interface i -> onInterface(i.name(), SYS_CLASS_NET);
            };
        }

        /** Where Linux lists every interface, with or without addresses. */
        static final Path SYS_CLASS_NET = Path.of("/sys/class/net");

        private static Endpoint listen(String text) throws IOException {
            java.net.InetAddress a;
            try {
                a = java.net.InetAddress.getByName(text);
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException("--listen " + text + ": not an address");
            }
            if (!(a instanceof Inet4Address v4)) {
                throw new IllegalArgumentException("--listen " + text + ": not an IPv4 address");
            }
            java.net.NetworkInterface nic = java.net.NetworkInterface.getByInetAddress(v4);
            int prefix = nic == null ? 24 : nic.getInterfaceAddresses().stream()
                    .filter(x -> x.getAddress().equals(v4)).map(x -> (int) x.getNetworkPrefixLength())
                    .findFirst().orElse(24);
            return new Endpoint(v4, v4, prefix, Optional.empty());
        }

        static Endpoint onInterface(String name, Path sysClassNet) throws IOException {
            java.net.NetworkInterface nic = name.isEmpty() || name.contains("/") ? null
                    : java.net.NetworkInterface.getByName(name);
            // Java lists only interfaces with an address: one without any (down, or a fresh bridge) is not "no
            // such interface", and saying so sends the operator looking for the wrong mistake.
            if (nic == null && !name.isEmpty() && !name.contains("/") && Files.exists(sysClassNet.resolve(name))) {
                throw new IllegalArgumentException("--interface " + name + ": has no IPv4 address");
            }
            if (nic == null) {
                throw new IllegalArgumentException("--interface " + name + ": no such interface");
            }
            java.net.InterfaceAddress ia = nic.getInterfaceAddresses().stream()
                    .filter(x -> x.getAddress() instanceof Inet4Address).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("--interface " + name + ": has no IPv4 address"));
            // HTTP and TFTP bind to the interface's address; DHCP must hear broadcasts and binds the wildcard.
            return new Endpoint(ia.getAddress(), (Inet4Address) ia.getAddress(), ia.getNetworkPrefixLength(),
                    Optional.of(name));
        }
    }
}
