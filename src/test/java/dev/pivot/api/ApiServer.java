package dev.pivot.api;

import dev.pivot.boot.BootEvent;
import dev.pivot.history.EventPipeline;
import dev.pivot.server.PivotServer;
import dev.pivot.server.ServerConfig;
import dev.pivot.store.JdbcStore;
import dev.pivot.testsupport.TestImage;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Pivot as `pivot serve` starts it ({@link PivotServer}), on 127.0.0.1 at free ports with DHCP off and a SQLite
 * store in the test's directory, serving a small NixOS-shaped image as profile "default" (and more profiles when
 * asked). Tests emit events as the protocol servers would ({@link #emit}) or send stage-1 reports over HTTP.
 */
public final class ApiServer implements AutoCloseable {

    public final PivotServer server;
    public final JdbcStore store;
    public final EventPipeline events;
    public final String base;
    /** The API token (in {@link #tokenFile}), which changes need. */
    public final String token;
    public final Path tokenFile;
    /** What the server printed (the boot timeline among it). */
    public final StringWriter output = new StringWriter();

    public ApiServer(Path dir) throws Exception {
        this(dir, List.of());
    }

    /** @param profiles more profiles, each serving an image of its own (named after the profile) */
    public ApiServer(Path dir, List<String> profiles) throws Exception {
        this(dir, profiles, false);
    }

    /** @param protectReads as `pivot serve --protect-reads` */
    public ApiServer(Path dir, List<String> profiles, boolean protectReads) throws Exception {
        Path image = TestImage.nixos(dir, "default");
        ServerConfig.Builder config = ServerConfig.builder(image, new ServerConfig.Where.Listen("127.0.0.1"))
                .dhcp(ServerConfig.DhcpMode.OFF, Optional.empty()).ports(0, 0).state(dir.resolve("state"))
                .ipxeDir(Files.createDirectories(dir.resolve("ipxe"))).protectReads(protectReads).skipCheck(true)
                .eventQueue(1024);
        if (!profiles.isEmpty()) {
            StringBuilder yaml = new StringBuilder("profiles:\n  default:\n    image: " + image + "\n");
            for (String p : profiles) {
                yaml.append("  ").append(p).append(":\n    image: ").append(TestImage.nixos(dir, p)).append('\n');
            }
            config.profiles(Optional.of(Files.writeString(dir.resolve("profiles.yaml"), yaml)));
        }
        PrintStream out = new PrintStream(new java.io.OutputStream() {
            @Override
            public void write(int b) {
                output.write(b);
            }
        }, true, StandardCharsets.UTF_8);
        server = PivotServer.start(config.build(), out, new PrintWriter(output, true));
        store = server.store();
        events = server.events();
        base = "http://127.0.0.1:" + server.httpPort();
        tokenFile = server.config().tokenFile();
        token = Files.readString(tokenFile).strip();
    }

    /** The sha256 of the kernel a profile boots (each test image's kernel differs). */
    public String kernelSha(String profile) throws IOException {
        return dev.pivot.testsupport.TestFiles.sha256(server.config().state().getParent()
                .resolve("image-" + profile).resolve("bzImage"));
    }

    /** Emits as a protocol server would, then waits until the event is recorded and its listeners ran. */
    public void emit(BootEvent event) {
        events.emit(event);
        try {
            if (!events.flush(Duration.ofSeconds(10))) {
                throw new IllegalStateException("event not recorded within 10 s: " + event);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code /report?mac=M} as stage 1 sends it from the address DHCP leased the machine (here 127.0.0.1, where
     * the test's curl comes from): Pivot counts a report without the boot's secret only from there.
     */
    public String reportUrl(dev.pivot.boot.MacAddress mac) throws java.net.UnknownHostException {
        server.addresses().learn(java.net.InetAddress.getByName("127.0.0.1"), mac);
        return base + "/report?mac=" + mac;
    }

    @Override
    public void close() {
        server.close();
    }
}
