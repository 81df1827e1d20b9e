package dev.pivot.cli;

import dev.pivot.boot.BootSource;
import dev.pivot.loaders.Routes;
import dev.pivot.server.PivotServer;
import dev.pivot.server.LogFormat;
import dev.pivot.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

/**
 * `pivot serve DIR` or `pivot serve --kernel K --initrd I --cmdline "…"`: imports a netboot build (or a kernel with its
 * initrds) and serves it over DHCP, TFTP and HTTP until stopped.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve the netboot build in DIR, or a kernel with its initrds (--kernel), to every machine that"
                + " PXE-boots on the network."})
final class ServeCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", description = "a NixOS netboot build (bzImage, initrd,"
            + " netboot.ipxe), or a generic image: vmlinuz|bzImage, initrd, root.squashfs and an optional pivot.yaml"
            + " (a pivot.yaml naming no squashfs serves its kernel and initrds alone)")
    Path dir;

    /** Read by {@link ConfigFile} before picocli parses; declared so that it is accepted and listed. */
    @Option(names = "--config", paramLabel = "FILE", description = {"take options from this YAML file: each option "
            + "a key without its dashes (dhcp: full), the image as image:; options given here win",
            "the package's pivot.service uses /etc/pivot/pivot.yaml"})
    Path configFile;

    @Option(names = "--kernel", paramLabel = "FILE", description = "instead of DIR: boot this kernel with --initrd and"
            + " --cmdline alone, without Pivot's stage 1 (installers, rescue systems, memtest)")
    Path kernel;

    @Option(names = "--initrd", paramLabel = "FILE", description = "with --kernel: an initrd; repeat for more, in load"
            + " order")
    List<Path> initrds;

    @Option(names = "--cmdline", paramLabel = "PARAMS", description = "with --kernel: the kernel command line, e.g."
            + " \"console=ttyS0,115200 priority=low\"")
    String cmdline;

    @Option(names = "--interface", paramLabel = "IF", description = "serve on IF; the server's address is IF's IPv4")
    String interfaceName;

    @Option(names = "--listen", paramLabel = "ADDR", description = "bind to ADDR instead (e.g. 127.0.0.1)")
    String listen;

    @Option(names = "--dhcp", paramLabel = "MODE", defaultValue = "proxy", converter = DhcpModeConverter.class,
            description = "proxy (beside an existing DHCP server), full (with --range), off; default ${DEFAULT-VALUE}")
    ServerConfig.DhcpMode dhcp;

    static final class DhcpModeConverter extends LowerCaseEnum<ServerConfig.DhcpMode> {
        DhcpModeConverter() {
            super(ServerConfig.DhcpMode.class, "DHCP mode");
        }
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

    @Option(names = "--efi-loader", defaultValue = "grub", paramLabel = "grub|FILE",
            description = "what UEFI x86-64 PXE clients load first: grub (shim, then Debian's signed GRUB: boots with"
                    + " Secure Boot on or off) or an iPXE build, ipxe.efi or snponly.efi; default ${DEFAULT-VALUE}")
    String efiLoader;

    @Option(names = "--database", paramLabel = "JDBC-URL",
            description = "keep boot history in this database instead of STATE/pivot.db, e.g. "
                    + "jdbc:postgresql://db/pivot?user=pivot&password=…")
    String database;

    @Option(names = "--dhcp-leases", paramLabel = "WHERE", defaultValue = "journal",
            converter = DhcpLeasesConverter.class,
            description = "journal (STATE/dhcp-leases, one server per range) or store (the PostgreSQL --database,"
                    + " shared by every server on the range); default ${DEFAULT-VALUE}")
    ServerConfig.DhcpLeases dhcpLeases;

    static final class DhcpLeasesConverter extends LowerCaseEnum<ServerConfig.DhcpLeases> {
        DhcpLeasesConverter() {
            super(ServerConfig.DhcpLeases.class, "place for DHCP leases");
        }
    }

    @Option(names = "--server-name", paramLabel = "NAME",
            description = "this server's name among the servers sharing a --database; default the host's name")
    String serverName;

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

    static final class Stage1Converter extends LowerCaseEnum<ServerConfig.Stage1Mode> {
        Stage1Converter() {
            super(ServerConfig.Stage1Mode.class, "stage 1 mode");
        }
    }

    @Option(names = "--keep-generations", paramLabel = "N", defaultValue = "10",
            description = "builds kept per profile (each new build of DIR is the next generation); default ${DEFAULT-VALUE}")
    int keepGenerations;

    @Option(names = "--keep-generations-for", paramLabel = "AGE",
            description = "also drop generations older than AGE (30d, 12h, 90m); never the default or an assigned one")
    String keepGenerationsFor;

    @Option(names = "--menu-timeout", paramLabel = "SECONDS", defaultValue = "5",
            description = "the boot menu of a profile's generations waits this long; 0: no menu; default ${DEFAULT-VALUE}")
    int menuTimeout;

    @Option(names = "--skip-check", description = "serve even when the image check finds errors")
    boolean skipCheck;

    @Option(names = "--gc-after", paramLabel = "DAYS", defaultValue = "" + ServerConfig.DEFAULT_GC_AFTER_DAYS,
            description = "on start, remove stored artifacts no profile uses and not imported for DAYS days "
                    + "(0: never; `pivot gc` does it on demand); default ${DEFAULT-VALUE}")
    int gcAfterDays;

    @Option(names = "--log-format", paramLabel = "FORMAT", description = {"text (default: one line per boot step; "
            + "without the time under systemd, whose journal has it) or json (one object per line, for log shippers)"})
    String logFormat;

    @Option(names = "--machine-ram", paramLabel = "MB",
            description = "the machines' RAM: --stage1 native is refused when the image needs more")
    Long machineRamMb;

    @Option(names = "--ipv6-ra", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "where DHCP is served, answer IPv6 router solicitations with 'no router here' while no IPv6"
                    + " router advertises on the link, so iPXE does not wait ~13 s for IPv6 autoconfiguration"
                    + " (default on; --no-ipv6-ra turns it off)")
    boolean ipv6Ra;

    @Option(names = "--stall-after", paramLabel = "STEP=SECONDS",
            description = "mark a boot stalled when it stays at STEP longer (or STEP=off), e.g. initrd=60;"
                    + " repeatable; defaults: dhcp/tftp 60, script 120, kernel/initrd 300, stage1 120, network 900")
    List<String> stallAfter = new ArrayList<>();

    @Option(names = "--root-transport", paramLabel = "http|nbd", defaultValue = "http",
            converter = RootTransportConverter.class,
            description = "http: stage 1 fetches the root image into RAM and checks its sha256 (default); nbd: stage 1"
                    + " attaches it as /dev/nbd0 from Pivot's NBD server and reads only what the machine uses, so"
                    + " an image larger than RAM boots")
    ServerConfig.RootTransport rootTransport;

    static final class RootTransportConverter extends LowerCaseEnum<ServerConfig.RootTransport> {
        RootTransportConverter() {
            super(ServerConfig.RootTransport.class, "root transport");
        }
    }

    @Option(names = "--nbd-port", paramLabel = "PORT", defaultValue = "10809",
            description = "the NBD server's port with --root-transport nbd; default ${DEFAULT-VALUE}")
    int nbdPort;

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

    @Option(names = "--dhcp-known-only", description = "DHCP answers only machines Pivot knows: a machine record (it"
            + " fetched its script before), an assignment or a group; every other MAC gets no offer")
    boolean dhcpKnownOnly;

    @Override
    public Integer call() throws Exception {
        // Buffered, flushed by the timeline when no event waits: not a write(2) per line under a boot storm.
        PrintStream out = new PrintStream(new java.io.BufferedOutputStream(
                new java.io.FileOutputStream(java.io.FileDescriptor.out), 1 << 16), false,
                java.nio.charset.StandardCharsets.UTF_8);
        ServerConfig config = config();
        LogSetup.apply(config.logFormat());
        PivotServer server;
        try {
            server = PivotServer.start(config, out, commandSpec.commandLine().getErr());
        } catch (PivotServer.ImageRefused e) {
            out.flush();
            return 2;
        } catch (Exception e) {
            out.flush(); // what the import printed before the failure
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(server::close));
        if (config.profiles().isPresent()) {
            // `systemctl reload pivot` / `kill -HUP`: profiles.yaml read again (it is also watched for changes).
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> server.reloadProfiles());
        }
        ServerConfig c = server.config();
        String host = server.address().getHostAddress();
        if (server.served().isEmpty()) {
            out.printf("pivot: serving %s's generations stored before; the next build there is imported%n",
                    c.source().describe());
        } else if (server.served().get().spec().rootBoot().isPresent()) {
            var spec = server.served().get().spec();
            var root = spec.rootBoot().get();
            out.printf("pivot: serving %s (init=%s)%n", c.source().describe(), root.init());
            out.printf("pivot: root image %s, %d bytes, sha256 %s%n", root.rootImage().name(), root.rootImage().size(),
                    root.rootImage().sha256());
        } else {
            var spec = server.served().get().spec();
            out.printf("pivot: serving kernel %s (%d bytes) with %s, no stage 1; command line: %s%n",
                    spec.kernel().name(), spec.kernel().size(), spec.initrds().isEmpty() ? "no initrd"
                            : String.join(", ", spec.initrds().stream().map(i -> i.name() + " (" + i.size()
                            + " bytes)").toList()), spec.kernelArgs().isEmpty() ? "(empty)"
                            : String.join(" ", spec.kernelArgs()));
        }
        String base = Routes.baseUrl(server.address(), server.httpPort());
        out.printf("pivot: %s%s · tftp %s:%d · dhcp %s%s%n", base, Routes.SCRIPT, host,
                server.tftpPort(), c.dhcp().name().toLowerCase(java.util.Locale.ROOT),
                c.range().map(r -> " " + r).orElse(""));
        server.nbdPort().ifPresent(port -> out.printf("pivot: nbd %s:%d (root images by sha256)%n", host, port));
        out.printf("pivot: machines and boots at %s/ · API /api/v1/ · metrics /metrics%n", base);
        out.printf("pivot: operator page %s/ · API changes need the token in %s%s%n", base,
                c.tokenFile(), c.protectReads() ? " (reads too)" : "");
        out.println("pivot: waiting for machines (Ctrl-C to stop)");
        out.flush();
        server.awaitClose();
        return 0;
    }

    /** DIR, or --kernel with its --initrd and --cmdline: one or the other. */
    BootSource source() {
        if (kernel == null) {
            if (initrds != null || cmdline != null) {
                throw new IllegalArgumentException((initrds != null ? "--initrd" : "--cmdline")
                        + " goes with --kernel (an image directory names its own)");
            }
            if (dir == null) {
                throw new IllegalArgumentException("say what to serve: DIR, or --kernel FILE [--initrd FILE]"
                        + " [--cmdline PARAMS]");
            }
            return new BootSource.ImageDir(dir);
        }
        if (dir != null) {
            throw new IllegalArgumentException("give DIR or --kernel, not both (" + dir + ", --kernel " + kernel + ")");
        }
        return new BootSource.KernelFiles(kernel, initrds == null ? List.of() : initrds,
                BootSource.KernelFiles.words(cmdline));
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
        return new ServerConfig(source(), where, dhcp, Optional.ofNullable(range), Optional.ofNullable(router), httpPort,
                tftpPort, Optional.ofNullable(tftpRoot),
                tftpMaxBlockSize == null ? OptionalInt.empty() : OptionalInt.of(tftpMaxBlockSize),
                Optional.ofNullable(apiTokenFile), protectReads, state != null ? state : ServerConfig.DEFAULT_STATE,
                efiLoader, Optional.ofNullable(database), Optional.ofNullable(profilesFile), ipxeDir, ipxeUpgrade,
                Optional.ofNullable(initPath), stage1, skipCheck,
                machineRamMb == null ? OptionalLong.empty() : OptionalLong.of(machineRamMb << 20), true,
                ServerConfig.DEFAULT_EVENT_QUEUE, LogFormat.of(logFormat, System.getenv()), gcAfterDays,
                generationPolicy(), ipv6Ra, ServerConfig.stallDeadlines(stallAfter), rootTransport, nbdPort,
                ServerLimits.apply(limitSettings, trustHostHeader, dhcpKnownOnly),
                new ServerConfig.Cluster(dhcpLeases == null ? ServerConfig.DhcpLeases.JOURNAL : dhcpLeases,
                        Optional.ofNullable(serverName)));
    }

    /** --keep-generations, --keep-generations-for, --menu-timeout. */
    dev.pivot.boot.GenerationPolicy generationPolicy() {
        if (keepGenerations < 1) {
            throw new IllegalArgumentException("--keep-generations " + keepGenerations + ": must be 1 or more");
        }
        if (menuTimeout < 0 || menuTimeout > 3600) {
            throw new IllegalArgumentException("--menu-timeout " + menuTimeout + ": must be 0 (no menu) to 3600 seconds");
        }
        return new dev.pivot.boot.GenerationPolicy(keepGenerations,
                Optional.ofNullable(keepGenerationsFor).map(ServeCommand::age), menuTimeout);
    }

    /** "30d", "12h", "90m": a generation's age limit. */
    static java.time.Duration age(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([1-9][0-9]{0,5})([dhm])").matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("--keep-generations-for " + text
                    + ": expected a number of days, hours or minutes, such as 30d, 12h or 90m");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "d" -> java.time.Duration.ofDays(n);
            case "h" -> java.time.Duration.ofHours(n);
            default -> java.time.Duration.ofMinutes(n);
        };
    }
}
