package dev.pivot.cli;

import dev.pivot.loaders.Routes;
import dev.pivot.server.PivotServer;
import dev.pivot.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

/** `pivot serve DIR`: imports a netboot build and serves it over DHCP, TFTP and HTTP until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve the netboot build in DIR to every machine that PXE-boots on the network.")
final class ServeCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "DIR", description = "a NixOS netboot build (bzImage, initrd, netboot.ipxe), or a generic image:"
            + " vmlinuz|bzImage, initrd, root.squashfs and an optional pivot.yaml")
    Path dir;

    @Option(names = "--interface", paramLabel = "IF", description = "serve on IF; the server's address is IF's IPv4")
    String interfaceName;

    @Option(names = "--listen", paramLabel = "ADDR", description = "bind to ADDR instead (e.g. 127.0.0.1)")
    String listen;

    @Option(names = "--dhcp", paramLabel = "MODE", defaultValue = "proxy", converter = DhcpModeConverter.class,
            description = "proxy (beside an existing DHCP server), full (with --range), off; default ${DEFAULT-VALUE}")
    ServerConfig.DhcpMode dhcp;

    static final class DhcpModeConverter implements picocli.CommandLine.ITypeConverter<ServerConfig.DhcpMode> {
        @Override
        public ServerConfig.DhcpMode convert(String value) {
            return lowerCase(ServerConfig.DhcpMode.class, value, "DHCP mode");
        }
    }

    /** An enum constant by its lower-case name ("full" → FULL), or one line naming the value and the choices. */
    static <E extends Enum<E>> E lowerCase(Class<E> type, String value, String what) {
        for (E e : type.getEnumConstants()) {
            if (e.name().toLowerCase(java.util.Locale.ROOT).equals(value)) {
                return e;
            }
        }
        throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a " + what + ": "
                + java.util.Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(java.util.Locale.ROOT))
                .collect(java.util.stream.Collectors.joining(", ")));
    }

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
    ServerConfig.Stage1Mode stage1;

    static final class Stage1Converter implements picocli.CommandLine.ITypeConverter<ServerConfig.Stage1Mode> {
        @Override
        public ServerConfig.Stage1Mode convert(String value) {
            return lowerCase(ServerConfig.Stage1Mode.class, value, "stage 1 mode");
        }
    }

    @Option(names = "--skip-check", description = "serve even when the image check finds errors")
    boolean skipCheck;

    @Option(names = "--machine-ram", paramLabel = "MB",
            description = "the machines' RAM: --stage1 native is refused when the image needs more")
    Long machineRamMb;

    @Option(names = "--limit", paramLabel = "NAME=N", converter = LimitConverter.class,
            description = "change one bound (repeatable): " + ServerLimits.NAMES_HELP)
    java.util.List<ServerLimits.Setting> limitSettings = new java.util.ArrayList<>();

    static final class LimitConverter implements picocli.CommandLine.ITypeConverter<ServerLimits.Setting> {
        @Override
        public ServerLimits.Setting convert(String value) {
            try {
                return ServerLimits.Setting.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    @Option(names = "--trust-host-header", description = "scripts name the server as the client's Host header did"
            + " (behind a reverse proxy); by default they use the address the client reached")
    boolean trustHostHeader;

    @Override
    public Integer call() throws Exception {
        // Buffered, flushed by the timeline when no event waits: not a write(2) per line under a boot storm.
        PrintStream out = new PrintStream(new java.io.BufferedOutputStream(
                new java.io.FileOutputStream(java.io.FileDescriptor.out), 1 << 16), false,
                java.nio.charset.StandardCharsets.UTF_8);
        PivotServer server;
        try {
            server = PivotServer.start(config(), out, commandSpec.commandLine().getErr());
        } catch (PivotServer.ImageRefused e) {
            out.flush();
            return 2;
        } catch (Exception e) {
            out.flush(); // what the import printed before the failure
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(server::close));
        ServerConfig c = server.config();
        String host = server.address().getHostAddress();
        var image = server.image();
        out.printf("pivot: serving %s (init=%s)%n", dir, image.init());
        out.printf("pivot: root image %s, %d bytes, sha256 %s%n", image.rootImage().name(), image.rootImage().size(),
                image.rootImage().sha256());
        String base = Routes.baseUrl(server.address(), server.httpPort());
        out.printf("pivot: %s%s · tftp %s:%d · dhcp %s%s%n", base, Routes.SCRIPT, host,
                server.tftpPort(), c.dhcp().name().toLowerCase(java.util.Locale.ROOT),
                c.range().map(r -> " " + r).orElse(""));
        out.printf("pivot: machines and boots at %s/ · API /api/v1/ · metrics /metrics%n", base);
        out.printf("pivot: operator page %s/ · API changes need the token in %s%s%n", base,
                c.tokenFile(), c.protectReads() ? " (reads too)" : "");
        out.println("pivot: waiting for machines (Ctrl-C to stop)");
        out.flush();
        server.awaitClose();
        return 0;
    }

    /** The flags as a {@link ServerConfig}: nothing else happens here. */
    ServerConfig config() {
        if (listen != null && interfaceName != null) {
            throw new IllegalArgumentException("give --interface or --listen, not both");
        }
        if (listen == null && interfaceName == null) {
            throw new IllegalArgumentException("say where to serve: --interface IF or --listen ADDR");
        }
        ServerConfig.Where where = listen != null ? new ServerConfig.Where.Listen(listen)
                : new ServerConfig.Where.Interface(interfaceName);
        return new ServerConfig(dir, where, dhcp, Optional.ofNullable(range), Optional.ofNullable(router), httpPort,
                tftpPort, Optional.ofNullable(tftpRoot),
                tftpMaxBlockSize == null ? OptionalInt.empty() : OptionalInt.of(tftpMaxBlockSize),
                Optional.ofNullable(apiTokenFile), protectReads, state != null ? state : ServerConfig.DEFAULT_STATE,
                efiLoader, Optional.ofNullable(database), Optional.ofNullable(profilesFile), ipxeDir, ipxeUpgrade,
                Optional.ofNullable(initPath), stage1, skipCheck,
                machineRamMb == null ? OptionalLong.empty() : OptionalLong.of(machineRamMb << 20), true,
                ServerConfig.DEFAULT_EVENT_QUEUE, ServerLimits.apply(limitSettings, trustHostHeader));
    }
}
