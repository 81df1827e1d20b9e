package dev.pivot.server;

import dev.pivot.api.ApiAccess;
import dev.pivot.api.ApiRoutes;
import dev.pivot.api.ArtifactCollector;
import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.BootSource;
import dev.pivot.boot.Generations;
import dev.pivot.boot.BootSecrets;
import dev.pivot.boot.Refusals;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.history.EventPipeline;
import dev.pivot.http.HttpConfig;
import dev.pivot.http.HttpGuard;
import dev.pivot.http.PivotHttpServer;
import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.loaders.Routes;
import dev.pivot.nbd.NbdServer;
import dev.pivot.profiles.ProfilesFile;
import dev.pivot.stage1.Stage1Contract;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The composition root: one {@link ServerConfig} in, the running Pivot out — the store, the event pipeline, HTTP
 * (boot routes, API, page, metrics), TFTP and DHCP — and {@link #close} stops them in the reverse order. `pivot
 * serve`, `pivot demo` (through `pivot serve`), the tests and the benchmarks all start Pivot here, so what is
 * measured is what ships.
 */
public final class PivotServer implements AutoCloseable {

    /** The image check or the import refused the image; why was printed on the error stream. */
    public static final class ImageRefused extends Exception {
        ImageRefused(String what) {
            super("not serving " + what);
        }
    }

    private final ServerConfig config;
    private final Endpoint where;
    private final ServedImage served;
    private final List<AutoCloseable> running;
    private final EventPipeline pipeline;
    private final JdbcStore store;
    private final PivotHttpServer http;
    private final TftpServer tftp;
    private final AddressBook addresses;
    private final Optional<NbdRoot> nbd;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final Refusals refusals;
    private final Optional<ProfileReload> reload;

    private PivotServer(ServerConfig config, Endpoint where, ServedImage served, List<AutoCloseable> running,
                        EventPipeline pipeline, JdbcStore store, PivotHttpServer http, TftpServer tftp,
                        AddressBook addresses, Optional<NbdRoot> nbd, Refusals refusals,
                        Optional<ProfileReload> reload) {
        this.refusals = refusals;
        this.reload = reload;
        this.addresses = addresses;
        this.nbd = nbd;
        this.config = config;
        this.where = where;
        this.served = served;
        this.running = running;
        this.pipeline = pipeline;
        this.store = store;
        this.http = http;
        this.tftp = tftp;
    }

    /**
     * Reads --profiles again now (what SIGHUP does): true when applied; false, with one line saying why, when the
     * file cannot be used (the profiles in use stay) or there is none.
     */
    public boolean reloadProfiles() {
        return reload.map(ProfileReload::reload).orElse(false);
    }

    /** What {@link #check} found: where the server would listen, and the profiles file parsed. */
    public record Checked(Endpoint where, Optional<ProfilesFile> profiles) {
    }

    /**
     * Everything about {@code config} that can be known without serving or importing: each option, the interface
     * or address, the DHCP settings and the profiles file. What `pivot check` runs, and the
     * first thing {@link #start} does. A problem throws {@link IllegalArgumentException} naming the input.
     */
    public static Checked check(ServerConfig config) throws IOException {
        OptionsCheck.check(config);
        Endpoint where = Endpoint.of(config.where());
        tftpBlockSize(config, where);
        DhcpSetup.config(config, where, config.httpPort());
        Optional<ProfilesFile> profiles = config.profiles().map(ProfilesFile::parse);
        profiles.ifPresent(PivotServer::checkKernelFiles);
        return new Checked(where, profiles);
    }

    /**
     * Checks every option, imports the image (and the profiles' images), then starts everything. Bad options throw
     * {@link IllegalArgumentException} naming the option before any work is done.
     */
    public static PivotServer start(ServerConfig config, PrintStream out, PrintWriter err)
            throws IOException, ImageRefused {
        Checked checked = check(config);
        Endpoint where = checked.where();
        int tftpBlockSize = tftpBlockSize(config, where);
        Optional<ProfilesFile> profiles = checked.profiles();
        try {
            Files.createDirectories(config.state());
            StateDir.restrict(config.state());
        } catch (IOException e) {
            throw new IllegalArgumentException("--state " + config.state() + ": cannot make it ("
                    + (e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.getMessage()) + ")");
        }

        ArtifactStore artifacts = StateDir.artifacts(config.state());
        ServedImage.Options options = new ServedImage.Options(config.stage1(), config.init().orElse(null),
                config.skipCheck(), config.machineRamBytes(), out, err, config.rootTransport());
        // A build refused here may still leave the profile served: by the generations stored before (below).
        ServedImage served;
        Exception refused = null;
        try {
            served = ServedImage.prepare(config.source(), "--", artifacts, options).orElse(null);
            if (served == null) {
                refused = new ImageRefused(config.source().describe());
            }
        } catch (dev.pivot.image.ImageException | dev.pivot.stage1.Stage1Exception e) {
            served = null;
            // A kernel's files are named in the message already; an image's message starts with what went wrong.
            refused = new IllegalArgumentException(config.source() instanceof BootSource.KernelFiles ? e.getMessage()
                    : config.source().describe() + ": " + e.getMessage(), e);
        }

        List<AutoCloseable> running = new ArrayList<>();
        try {
            History history = History.open(config, running);
            JdbcStore store = history.store();
            EventPipeline pipeline = history.pipeline();
            Generations generations = new Generations(Optional.of(store), Optional.of(store), config.generations());
            BuildImport builds = new BuildImport(artifacts, options, generations, java.time.Clock.systemUTC());
            if (served == null && !(config.source() instanceof BootSource.ImageDir(Path dir)
                    && ProfileSetup.servesStoredGeneration(profiles, builds, dir, err))) {
                throw refused;
            }
            AddressBook addresses = new AddressBook();

            // With --root-transport nbd the NBD server starts first: every boot's kernel command line names it.
            AtomicReference<ProfileCatalog> catalogRef = new AtomicReference<>();
            Optional<NbdRoot> nbd = config.rootTransport() != ServerConfig.RootTransport.NBD ? Optional.empty()
                    : Optional.of(NbdRoot.start(config, where, artifacts, Optional.ofNullable(served),
                            catalogRef::get, generations, addresses, pipeline, out, running));
            ProfileSetup.ImagePreparer images = (source, prefix) -> ServedImage.prepare(source, prefix, artifacts,
                    options);
            ProfileSetup.Setup setup = ProfileSetup.catalog(profiles, config.source(), served, images, builds, store,
                    store, Optional.of(store));
            ProfileCatalog catalog = setup.catalog();
            catalogRef.set(catalog);
            Optional<ProfileReload> reload = Optional.empty();
            if (profiles.isPresent()) {
                ProfileSetup.describe(profiles.get()).forEach(line -> out.println("pivot: " + line));
                // profiles.yaml is read again when it changes, and on SIGHUP (pivot serve), without a restart.
                ProfileReload watching = new ProfileReload(config.profiles().orElseThrow(), profiles.get(), catalog,
                        images, builds, out).start();
                running.add(watching);
                reload = Optional.of(watching);
            }
            ArtifactCleanup cleanup = new ArtifactCleanup(artifacts, catalog,
                    () -> nbd.map(n -> n.verity().treeHashes()).orElse(java.util.Set.of()));
            DiskSpaceWatch disk = new DiskSpaceWatch(config.state(), java.time.Duration.ofSeconds(30));
            running.add(disk);
            ServerConfig.Limits limits = config.limits();
            Refusals refusals = new Refusals();
            ApiRoutes api = ApiRoutes.create(pipeline, store, store, catalog, store)
                    .requireToken(ApiAccess.fromFile(config.tokenFile(), config.protectReads()))
                    .limit(limits.apiBodyBytes(), limits.eventStreams(), refusals)
                    .collectArtifactsWith(cleanup);
            api.gauge("pivot.state.free.bytes", "Bytes free in the state directory's file system (-1 before the"
                    + " first check)", disk::freeBytes);
            nbd.ifPresent(n -> n.gauges(api));
            if (config.gcAfterDays() > 0) {
                ArtifactCollector.Result r = cleanup.collect(java.time.Duration.ofDays(config.gcAfterDays()));
                if (r.removed() > 0) {
                    out.printf("pivot: removed %d unused artifacts (%d bytes) not imported for %d days%n",
                            r.removed(), r.bytes(), config.gcAfterDays());
                }
            }
            if (config.timeline()) {
                TimelinePrinter timeline = new TimelinePrinter(out, config.logFormat());
                pipeline.onEvent(timeline::print);
                pipeline.onIdle(timeline::flush);
            }
            pipeline.watchStalls(config.stallDeadlines(), e -> catalog.endsBoot(e, Stage1Contract.RDINIT));
            BootSecrets secrets = bootSecrets(config, history, out);
            HttpGuard guard = new HttpGuard(secrets, refusals,
                    limits.httpConnections(), limits.httpConnectionsPerIp(),
                    java.time.Duration.ofSeconds(limits.httpIdleSeconds()), limits.httpDownloads(),
                    limits.httpDownloadsPerIp(), limits.eventStreams(), limits.apiBodyBytes(), limits.trustHostHeader());
            Path arm64Dir = config.state().resolve("loaders").resolve("arm64");
            PivotHttpServer http = new PivotHttpServer(
                    new HttpConfig(where.bind(), config.httpPort(), Optional.empty(), config.ipxeDir(),
                            List.of(arm64Dir, config.state().resolve("loaders"))),
                    catalog, artifacts, addresses, pipeline, api, guard);
            http.start();
            running.add(http);
            // GRUB for ARM64 machines names this server's HTTP address: built once it is known.
            Optional<String> arm64Loader = Arm64Grub.offer(arm64Dir, where.address(), http.port(), out);
            String baseUrl = Routes.baseUrl(where.address(), http.port());
            java.util.function.Supplier<List<String>> peers = history.announce(api, http, baseUrl,
                    NbdRoot.port(nbd));
            if (history.beats().isPresent()) {
                PeerArtifacts fetching = new PeerArtifacts(artifacts);
                running.add(fetching);
                peerFetchMetrics(api, fetching.counts());
                history.beats().get().afterEachBeat(new SharedGenerations(generations, out, fetching, peers));
            }
            api.metrics().counter("pivot.downloads.anonymous", "Artifact downloads no machine was named for "
                    + "(no ?mac=, no lease for the address)", http::anonymousDownloads);
            api.metrics().counter("pivot.downloads.anonymous.bytes", "Bytes of those downloads",
                    http::anonymousDownloadBytes);

            // A new build at a profile's path (nix build replacing ./result) becomes its next generation.
            BuildWatcher watcher = new BuildWatcher(setup.watched(), builds::reimport);
            watcher.start();
            running.add(watcher);

            warmUp(baseUrl);

            // pxelinux.cfg/01-<mac> for loaders that read PXELINUX configs (u-root's pxeboot), same boot by HTTP.
            UefiLoaders uefi = UefiLoaders.choose(config, profiles.map(f -> f.profiles().values().stream()
                    .filter(p -> p.loader().equals(Optional.of(dev.pivot.boot.ProfileLoader.GRUB)))
                    .map(ProfilesFile.Profile::name).sorted().toList()).orElse(List.of()), out);
            GrubConfigs grubConfigs = new GrubConfigs(catalog, artifacts, addresses, pipeline, secrets, baseUrl,
                    where.address().getHostAddress(), uefi.grubOverHttp());
            grubConfigs.peers(peers);
            TftpFiles files = TftpFiles.withDistroLoaders(config.tftpRoot().map(List::of).orElse(List.of()),
                    config.ipxeDir(), arm64Loader.isPresent() ? java.util.stream.Stream.concat(
                            uefi.tftpDirs().stream(), java.util.stream.Stream.of(arm64Dir)).toList() : uefi.tftpDirs(),
                    TftpFiles.both(new PxelinuxConfigs(catalog, baseUrl, peers),
                            grubConfigs));
            TftpServer tftp = new TftpServer(TftpConfig.defaults(where.bind(), config.tftpPort(), files.roots())
                    .withMaxBlockSize(tftpBlockSize).withLimits(new TftpLimits(limits.tftpTransfers(),
                            limits.tftpPerClient(), limits.tftpWindowBytes(), TftpLimits.DEFAULTS.handshakeGiveUp())),
                    files, addresses, pipeline, refusals);
            tftp.start();
            running.add(tftp);

            DhcpSetup.start(config, where, http.port(), new BootPolicy.Loaders(uefi.pxe(), uefi.httpBoot(),
                    uefi.grub(), uefi.httpGrub(), arm64Loader), catalog, store, addresses, pipeline, refusals, running);
            StateDir.restrictFiles(config.state());
            return new PivotServer(config, where, served, running, pipeline, store, http, tftp, addresses,
                    nbd, refusals, reload);
        } catch (Exception e) {
            closeAll(running);
            if (e instanceof ImageRefused r) {
                throw r;
            }
            if (e instanceof IOException io) {
                throw io;
            }
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(e.getMessage(), e);
        }
    }

    /** This server's name among those sharing the store: --server-name, else the host's name. */
    static String serverName(ServerConfig config) {
        return config.cluster().name().orElseGet(() -> {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (java.net.UnknownHostException e) {
                return "pivot";
            }
        });
    }

    /** A profile's kernel and initrds are named by profile before anything is imported or started. */
    private static void checkKernelFiles(ProfilesFile profiles) {
        for (ProfilesFile.Profile p : profiles.profiles().values()) {
            if (p.source() instanceof BootSource.KernelFiles files) {
                try {
                    dev.pivot.image.KernelImport.check(files, "profile " + p.name() + ": ");
                } catch (dev.pivot.image.ImageException e) {
                    throw new IllegalArgumentException(e.getMessage(), e);
                }
            }
        }
    }

    /**
     * One HEAD /boot.ipxe through the real path before the first machine asks: the first script after a start
     * otherwise pays for class loading and the first store read (tenths of a second, under emulation more), inside
     * every machine's boot time. HEAD records no event; a failure only means no warm-up.
     */
    private static void warmUp(String baseUrl) {
        try (java.net.http.HttpClient client = java.net.http.HttpClient.newBuilder()
                .connectTimeout(java.time.Duration.ofSeconds(2)).build()) {
            client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(baseUrl + Routes.SCRIPT
                            + "?mac=02:00:00:00:00:00")).method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody())
                    .timeout(java.time.Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.discarding());
        } catch (IOException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(PivotServer.class).debug("no HTTP warm-up: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * {@code pivot_peer_fetches_total{result=fetched|failed|no_room}} and {@code pivot_peer_fetched_bytes_total}:
     * a server that keeps failing to fetch a generation's artifacts serves its old generation, which an operator
     * should see without reading the log.
     */
    private static void peerFetchMetrics(ApiRoutes api, PeerArtifacts.Counts counts) {
        String tries = "Artifacts of generations another server recorded: fetched from a live peer, given by none,"
                + " or not fetched for want of room in the state directory";
        api.metrics().counter("pivot.peer.fetches", tries, counts.fetched::get, "result", "fetched");
        api.metrics().counter("pivot.peer.fetches", tries, counts.failed::get, "result", "failed");
        api.metrics().counter("pivot.peer.fetches", tries, counts.noRoom::get, "result", "no_room");
        api.metrics().counter("pivot.peer.fetched.bytes", "Bytes of the artifacts fetched from peers",
                counts.fetchedBytes::get);
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

    /**
     * What machines that no profile covers boot, and the image it came from (none for a kernel + initrds); empty
     * when DIR's build was refused at start and a generation stored before is served instead.
     */
    public Optional<ServedImage> served() {
        return Optional.ofNullable(served);
    }

    /** The address machines reach this server at. */
    public Inet4Address address() {
        return where.address();
    }

    public int httpPort() {
        return http.port();
    }

    /** The NBD server's port, when the root image goes over NBD. */
    public java.util.OptionalInt nbdPort() {
        return NbdRoot.port(nbd);
    }

    /** The NBD server, when the root image goes over NBD (tests read its counters). */
    public Optional<NbdServer> nbd() {
        return nbd.map(NbdRoot::server);
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

    /**
     * The key of this server's boot tokens: STATE/boot-key, or with a shared database the one stored there (the
     * first server's), so that a token one server issued counts at every other.
     */
    private static BootSecrets bootSecrets(ServerConfig config, History history, PrintStream out) throws IOException {
        Path file = config.state().resolve("boot-key");
        byte[] own = BootSecrets.keyInFile(file);
        if (history.beats().isEmpty()) {
            return BootSecrets.of(own);
        }
        byte[] shared = history.store().sharedBootKey(own, java.time.Instant.now());
        if (!java.util.Arrays.equals(own, shared)) {
            out.println("pivot: boot key: the shared database's (" + file + " is another, unused while this database"
                    + " is)");
        }
        return BootSecrets.of(shared);
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
    public record Endpoint(java.net.InetAddress bind, Inet4Address address, int prefixLength, Optional<String> interfaceName) {

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
