package dev.pivot.cli;

import dev.pivot.api.ApiAccess;
import dev.pivot.api.ApiRoutes;
import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.BootSessions;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.dhcp.DhcpConfig;
import dev.pivot.dhcp.DhcpServer;
import dev.pivot.dhcp.FileLeaseStore;
import dev.pivot.http.HttpConfig;
import dev.pivot.http.PivotHttpServer;
import dev.pivot.image.ArtifactStore;
import dev.pivot.image.ImportedImage;
import dev.pivot.profiles.ProfilesFile;
import dev.pivot.store.JdbcStore;
import dev.pivot.tftp.TftpConfig;
import dev.pivot.tftp.TftpFiles;
import dev.pivot.tftp.TftpServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** `pivot serve DIR`: imports a netboot build and serves it over DHCP, TFTP and HTTP until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the netboot build in DIR to every machine that PXE-boots on the network.")
final class ServeCommand implements Callable<Integer> {

    enum DhcpMode { proxy, full, off }

    @Parameters(index = "0", paramLabel = "DIR", description = "a NixOS netboot build (bzImage, initrd, netboot.ipxe), or a generic image:"
            + " vmlinuz|bzImage, initrd, root.squashfs and an optional pivot.yaml")
    Path dir;

    @Option(names = "--interface", paramLabel = "IF", description = "serve on IF; the server's address is IF's IPv4")
    String interfaceName;

    @Option(names = "--listen", paramLabel = "ADDR", description = "bind to ADDR instead (e.g. 127.0.0.1)")
    String listen;

    @Option(names = "--dhcp", paramLabel = "MODE", defaultValue = "proxy",
            description = "proxy (beside an existing DHCP server), full (with --range), off; default ${DEFAULT-VALUE}")
    DhcpMode dhcp;

    @Option(names = "--range", paramLabel = "FIRST-LAST", description = "addresses to lease with --dhcp full")
    String range;

    @Option(names = "--router", paramLabel = "ADDR", description = "default gateway handed out with --dhcp full")
    String router;

    @Option(names = "--http-port", defaultValue = "80", paramLabel = "N", description = "default ${DEFAULT-VALUE}")
    int httpPort;

    @Option(names = "--tftp-port", defaultValue = "69", paramLabel = "N", description = "default ${DEFAULT-VALUE}")
    int tftpPort;

    @Option(names = "--tftp-root", paramLabel = "DIR", description = "extra read-only TFTP files")
    Path tftpRoot;

    @Option(names = "--tftp-max-blksize", paramLabel = "N", description = "largest TFTP blksize granted (8-65464);"
            + " default: what fits the interface's MTU unfragmented (1468 on Ethernet)")
    Integer tftpMaxBlockSize;

    @Option(names = "--api-token-file", paramLabel = "FILE",
            description = "the token API changes need (made on first start); default STATE/api-token")
    Path apiTokenFile;

    @Option(names = "--protect-reads", description = "the API, its event stream and /metrics need the token too")
    boolean protectReads;

    @Option(names = "--state", paramLabel = "DIR", description = "where artifacts, leases and pivot.db (boot history) are kept; default /var/lib/pivot")
    Path state;

    @Option(names = "--efi-loader", defaultValue = "ipxe.efi", paramLabel = "FILE",
            description = "iPXE build for UEFI x86-64 PXE clients: ipxe.efi or snponly.efi; default ${DEFAULT-VALUE}")
    String efiLoader;

    @Option(names = "--database", paramLabel = "JDBC-URL",
            description = "keep boot history in this database instead of STATE/pivot.db, e.g. "
                    + "jdbc:postgresql://db/pivot?user=pivot&password=…")
    String database;

    @Option(names = "--profiles", paramLabel = "FILE",
            description = "profiles.yaml: more images, groups of machines, a default; DIR is the profile 'default'")
    Path profilesFile;

    @Option(names = "--ipxe-dir", defaultValue = "/usr/lib/ipxe", paramLabel = "DIR",
            description = "the distro's iPXE binaries; default ${DEFAULT-VALUE}")
    Path ipxeDir;

    // DHCP helper: optional iPXE upgrade chain (dev.pivot.dhcp.IpxeUpgrade).
    @Option(names = "--ipxe-upgrade", description = "hand iPXE clients (e.g. old NIC ROMs) the distro's iPXE over "
            + "TFTP once per boot before the script")
    boolean ipxeUpgrade;

    @Spec
    CommandSpec commandSpec;

    @Option(names = "--init", paramLabel = "PATH",
            description = "generic images: the init to switch_root to; default /sbin/init (or pivot.yaml's init)")
    String initPath;

    @Option(names = "--stage1", paramLabel = "MODE", defaultValue = "prelude", converter = Stage1Converter.class,
            description = "prelude: Pivot's stage 1 fetches the root image after boot (default); native: the root"
                    + " image goes as a second initrd to the image's own stage 1, as NixOS netboot does (needs 2-3x"
                    + " its size in RAM)")
    ServedImage.Stage1Mode stage1;

    static final class Stage1Converter implements picocli.CommandLine.ITypeConverter<ServedImage.Stage1Mode> {
        @Override
        public ServedImage.Stage1Mode convert(String value) {
            return switch (value) {
                case "prelude" -> ServedImage.Stage1Mode.PRELUDE;
                case "native" -> ServedImage.Stage1Mode.NATIVE;
                default -> throw new picocli.CommandLine.TypeConversionException(
                        "'" + value + "' is not a stage 1 mode: prelude or native");
            };
        }
    }

    @Option(names = "--skip-check", description = "serve even when the image check finds errors")
    boolean skipCheck;

    @Option(names = "--machine-ram", paramLabel = "MB",
            description = "the machines' RAM: --stage1 native is refused when the image needs more")
    Long machineRamMb;

    @Override
    public Integer call() throws Exception {
        Endpoint where = endpoint();
        int tftpBlockSize = tftpBlockSize(where);
        ArtifactStore store = StateDir.artifacts(stateDir());
        PrintStream out = System.out;
        ServedImage.Options options = new ServedImage.Options(stage1, initPath, skipCheck,
                machineRamMb == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(machineRamMb << 20), out,
                commandSpec.commandLine().getErr());
        Optional<ServedImage> served = ServedImage.prepare(dir, store, options);
        if (served.isEmpty()) {
            return 2;
        }
        ImportedImage image = served.get().image();
        BootSpec spec = served.get().spec();

        List<AutoCloseable> running = new ArrayList<>();
        // Boot history and machines: every event is committed to STATE/pivot.db (or --database) before it counts.
        JdbcStore db = database != null ? JdbcStore.open(database, null, null)
                : JdbcStore.openSqlite(stateDir().resolve("pivot.db"));
        running.add(db);
        BootSessions sessions = new BootSessions(db);
        ProfileCatalog catalog = ProfileSetup.catalog(Optional.ofNullable(profilesFile).map(ProfilesFile::parse), spec,
                profileDir -> ServedImage.prepare(profileDir, store, options), db, db);
        Path tokenFile = apiTokenFile != null ? apiTokenFile : stateDir().resolve("api-token");
        ApiRoutes api = ApiRoutes.create(sessions, db, db, catalog, db)
                .requireToken(ApiAccess.fromFile(tokenFile, protectReads));
        sessions.onEvent(new TimelinePrinter(out)::print);
        AddressBook addresses = new AddressBook();
        BootPolicy policy = new BootPolicy(efiLoader);

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> {
            closeAll(running);
            stopped.countDown();
        }));
        try {
            PivotHttpServer http = new PivotHttpServer(
                    new HttpConfig(where.bind(), httpPort, Optional.empty(), ipxeDir),
                    catalog, store, addresses, sessions, api);
            http.start();
            running.add(http);

            // pxelinux.cfg/01-<mac> for loaders that read PXELINUX configs (u-root's pxeboot), same boot by HTTP.
            String baseUrl = "http://" + where.address().getHostAddress() + ":" + http.port();
            TftpFiles files = TftpFiles.withDistroIpxe(tftpRoot == null ? List.of() : List.of(tftpRoot), ipxeDir,
                    new PxelinuxConfigs(catalog, baseUrl));
            TftpServer tftp = new TftpServer(TftpConfig.defaults(where.bind(), tftpPort, files.roots())
                    .withMaxBlockSize(tftpBlockSize), files, addresses, sessions);
            tftp.start();
            running.add(tftp);

            if (dhcp != DhcpMode.off) {
                // Leases live in the state directory so a restart (or kill -9) keeps every address handed out.
                DhcpServer server = new DhcpServer(dhcpConfig(where).withIpxeUpgrade(ipxeUpgrade), policy, addresses,
                        sessions, new FileLeaseStore(stateDir().resolve("dhcp-leases")));
                server.start();
                running.add(server);
            }
        } catch (IOException | RuntimeException e) {
            closeAll(running);
            throw e;
        }

        out.printf("pivot: serving %s (init=%s)%n", dir, image.init());
        out.printf("pivot: root image %s, %d bytes, sha256 %s%n", image.rootImage().name(), image.rootImage().size(),
                image.rootImage().sha256());
        out.printf("pivot: http://%s:%d/boot.ipxe · tftp %s:%d · dhcp %s%s%n", where.address().getHostAddress(),
                httpPort, where.address().getHostAddress(), tftpPort, dhcp,
                dhcp == DhcpMode.full ? " " + range : "");
        out.printf("pivot: machines and boots at http://%s:%d/ · API /api/v1/ · metrics /metrics%n",
                where.address().getHostAddress(), httpPort);
        out.printf("pivot: operator page http://%s:%d/ · API changes need the token in %s%s%n",
                where.address().getHostAddress(), httpPort, tokenFile, protectReads ? " (reads too)" : "");
        out.println("pivot: waiting for machines (Ctrl-C to stop)");
        out.flush();
        stopped.await();
        return 0;
    }

    private DhcpConfig dhcpConfig(Endpoint where) throws IOException {
        DhcpConfig config;
        if (dhcp == DhcpMode.full) {
            if (range == null) {
                throw new IllegalArgumentException("--dhcp full needs --range FIRST-LAST");
            }
            String[] ends = range.split("-", 2);
            if (ends.length != 2) {
                throw new IllegalArgumentException("--range " + range + ": expected FIRST-LAST, e.g. 10.0.0.100-10.0.0.199");
            }
            var pool = new DhcpConfig.Pool(ipv4("--range", ends[0]), ipv4("--range", ends[1]), where.prefixLength());
            if (router != null) {
                pool = pool.withRouter(ipv4("--router", router));
            }
            config = DhcpConfig.full(where.address(), httpPort, pool);
        } else {
            if (range != null) {
                throw new IllegalArgumentException("--range only makes sense with --dhcp full");
            }
            config = DhcpConfig.proxy(where.address(), httpPort);
        }
        return interfaceName == null ? config : config.withInterface(interfaceName);
    }

    private static Inet4Address ipv4(String option, String text) throws IOException {
        if (!text.trim().matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException(option + " " + text + ": not an IPv4 address");
        }
        return (Inet4Address) InetAddress.getByName(text.trim());
    }

    private Path stateDir() throws IOException {
        Path dirPath = state != null ? state : Path.of("/var/lib/pivot");
        Files.createDirectories(dirPath);
        return dirPath;
    }

    /** Where to bind and the address clients use, with the subnet's prefix length for full DHCP. */
    record Endpoint(InetAddress bind, Inet4Address address, int prefixLength) {
    }

    /** --tftp-max-blksize, checked before anything starts, or what fits the MTU of the interface TFTP answers on. */
    private int tftpBlockSize(Endpoint where) {
        if (tftpMaxBlockSize == null) {
            return TftpConfig.maxBlockSizeFor(where.address());
        }
        try {
            return TftpConfig.defaults(where.bind(), tftpPort, List.of()).withMaxBlockSize(tftpMaxBlockSize)
                    .maxBlockSize();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tftp-max-blksize " + tftpMaxBlockSize + ": " + e.getMessage());
        }
    }

    private Endpoint endpoint() throws IOException {
        if (listen != null && interfaceName != null) {
            throw new IllegalArgumentException("give --interface or --listen, not both");
        }
        if (listen != null) {
            InetAddress a = InetAddress.getByName(listen);
            if (!(a instanceof Inet4Address v4)) {
                throw new IllegalArgumentException("--listen " + listen + ": not an IPv4 address");
            }
            return new Endpoint(v4, v4, prefixOf(v4).orElse(24));
        }
        if (interfaceName == null) {
            throw new IllegalArgumentException("say where to serve: --interface IF or --listen ADDR");
        }
        NetworkInterface nic = NetworkInterface.getByName(interfaceName);
        if (nic == null) {
            throw new IllegalArgumentException("--interface " + interfaceName + ": no such interface");
        }
        InterfaceAddress ia = nic.getInterfaceAddresses().stream()
                .filter(x -> x.getAddress() instanceof Inet4Address).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("--interface " + interfaceName + ": has no IPv4 address"));
        // HTTP and TFTP bind to the interface's address; DHCP must hear broadcasts and binds the wildcard.
        return new Endpoint(ia.getAddress(), (Inet4Address) ia.getAddress(), ia.getNetworkPrefixLength());
    }

    private static Optional<Integer> prefixOf(Inet4Address address) throws SocketException {
        NetworkInterface nic = NetworkInterface.getByInetAddress(address);
        if (nic == null) {
            return Optional.empty();
        }
        return nic.getInterfaceAddresses().stream().filter(x -> x.getAddress().equals(address))
                .map(x -> (int) x.getNetworkPrefixLength()).findFirst();
    }

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
}
