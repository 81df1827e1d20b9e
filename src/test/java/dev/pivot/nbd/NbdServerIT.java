package dev.pivot.nbd;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
import dev.pivot.nbd.codec.ExportRequest;
import dev.pivot.nbd.codec.NbdProtocol;
import dev.pivot.nbd.codec.NbdRequest;
import dev.pivot.nbd.codec.OptionHeader;
import dev.pivot.server.PivotServer;
import dev.pivot.server.ServerConfig;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestImage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * libnbd's nbdinfo and nbdcopy (Debian's libnbd-bin) against `pivot serve --root-transport nbd` on 127.0.0.1: the
 * export list, the export's size and read-only flag, byte-identical copies by 16 clients at once, an unknown export
 * refused; and, with a socket speaking the protocol by hand, what no real client sends: writes (EPERM), a malformed
 * handshake and a malformed request (that connection closed, the server serving on).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class NbdServerIT {

    static final MacAddress MAC = MacAddress.parse("52:54:00:aa:bb:14");

    @TempDir
    static Path dir;
    static PivotServer server;
    static int port;
    static String export;
    static Path rootImage;
    static final List<BootEvent> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        Require.command("nbdinfo", "libnbd-bin");
        Require.command("nbdcopy", "libnbd-bin");
        Require.file(Path.of("/usr/sbin/nbd-client"), "nbd-client"); // packed into the prelude in NBD mode
        Path image = TestImage.nixos(dir, "nbd", 64);
        ServerConfig c = ServerConfig.builder(image, new ServerConfig.Where.Listen("127.0.0.1"))
                .dhcp(ServerConfig.DhcpMode.OFF, Optional.empty()).ports(0, 0).state(dir.resolve("state"))
                .timeline(false).skipCheck(true).rootTransport(ServerConfig.RootTransport.NBD, 0).build();
        server = PivotServer.start(c, new PrintStream(OutputStream.nullOutputStream()),
                new PrintWriter(OutputStream.nullOutputStream()));
        server.addresses().learn(InetAddress.getLoopbackAddress(), MAC); // as DHCP would have
        server.events().onEvent((session, e) -> events.add(e));
        port = server.nbdPort().orElseThrow();
        export = server.served().orElseThrow().spec().rootBoot().orElseThrow().rootImage().sha256();
        rootImage = dir.resolve("state/artifacts");
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    static String uri(String name) {
        return "nbd://127.0.0.1:" + port + "/" + name;
    }

    record Run(int exit, String out) {
    }

    static Run run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        return new Run(p.exitValue(), out);
    }

    static String sha256(Path file) throws Exception {
        MessageDigest d = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] b = new byte[1 << 16];
            for (int n; (n = in.read(b)) > 0; ) {
                d.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    @Test
    void nbdinfoListsTheRootImageAndSeesItReadOnlyWithItsSize() throws Exception {
        Run list = run("nbdinfo", "--list", "--json", "nbd://127.0.0.1:" + port);
        assertThat(list.exit()).as(list.out()).isZero();
        assertThat(list.out()).contains("\"export-name\": \"" + export + "\"");

        Run info = run("nbdinfo", "--json", uri(export));
        assertThat(info.exit()).as(info.out()).isZero();
        assertThat(info.out()).contains("\"export-size\": " + server.served().orElseThrow().spec().rootBoot().orElseThrow().rootImage().size())
                .contains("\"is_read_only\": true").contains("\"can_flush\": true")
                .contains("\"can_trim\": false").contains("\"can_zero\": false")
                .contains("\"can_multi_conn\": true");
    }

    /**
     * The root image's dm-verity hash tree, served beside it as an export of its own, is byte for byte what
     * cryptsetup's veritysetup makes of the stored image, and the root hash every boot script carries is its.
     */
    @Test
    void theHashTreeExportIsVeritysetupsTreeAndTheScriptCarriesItsRootHash() throws Exception {
        Require.command("veritysetup", "cryptsetup-bin");
        String script;
        try (java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient()) {
            script = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                            + server.httpPort() + "/boot.ipxe?mac=" + MAC)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        }
        java.util.regex.Matcher verity = java.util.regex.Pattern.compile(
                "pivot\\.verity=([0-9a-f]{64}) pivot\\.verity_tree=([0-9a-f]{64})").matcher(script);
        assertThat(verity.find()).as("the root hash and tree export in the script:\n" + script).isTrue();
        String tree = verity.group(2);

        Run list = run("nbdinfo", "--list", "--json", "nbd://127.0.0.1:" + port);
        assertThat(list.out()).contains("\"export-name\": \"" + tree + "\"");
        Path served = dir.resolve("tree-served");
        Run copy = run("nbdcopy", uri(tree), served.toString());
        assertThat(copy.exit()).as(copy.out()).isZero();

        Path theirs = dir.resolve("tree-veritysetup");
        Path stored = dir.resolve("state/artifacts/objects/" + export);
        Run format = run("veritysetup", "format", "--no-superblock", "--format=1", "--hash=sha256",
                "--data-block-size=4096", "--hash-block-size=4096", "--salt=-", stored.toString(), theirs.toString());
        assertThat(format.exit()).as(format.out()).isZero();
        assertThat(format.out()).containsPattern("Root hash:\\s+" + verity.group(1));
        assertThat(Files.readAllBytes(served)).isEqualTo(Files.readAllBytes(theirs));
    }

    static final List<Integer> REQUEST_SIZES = List.of(4096, 128 * 1024, 256 * 1024, 4 * 1024 * 1024);

    @Test
    void sixteenClientsAtOnceCopyTheRootImageByteForByteInSmallAndLargeReads() throws Exception {
        List<Process> copies = new ArrayList<>();
        List<Path> outs = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            Path out = dir.resolve("copy-" + i);
            outs.add(out);
            // Each of the server's ways to send a read: a kernel's 4 KiB page (copied behind its header), 128 KiB
            // (sendfile), nbdcopy's default 256 KiB and 4 MiB (large: copied or spliced, several writes each).
            List<String> command = List.of("nbdcopy", "--request-size=" + REQUEST_SIZES.get(i % REQUEST_SIZES.size()),
                    uri(export), out.toString());
            copies.add(new ProcessBuilder(command)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("copy-" + i + ".log").toFile()).start());
        }
        for (int i = 0; i < copies.size(); i++) {
            Process p = copies.get(i);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(dir.resolve("copy-" + i + ".log"))).isZero();
        }
        for (Path out : outs) {
            assertThat(sha256(out)).isEqualTo(export);
            Files.delete(out);
        }
        assertThat(server.nbd().orElseThrow().bytesRead()).isGreaterThanOrEqualTo(16 * server.served().orElseThrow().spec().rootBoot().orElseThrow().rootImage().size());
        assertThat(server.events().flush(java.time.Duration.ofSeconds(10))).isTrue();
        assertThat(events).anyMatch(e -> e.step() == Step.ROOT_IMAGE && e.mac().equals(MAC)
                && e.detail().contains("attached") && e.file().orElse("").equals(export));
    }

    @Test
    void anUnknownExportIsRefusedAndTheDefaultExportIsTheServedImage() throws Exception {
        Run unknown = run("nbdinfo", uri("0".repeat(64)));
        assertThat(unknown.exit()).isNotZero();
        // libnbd shows NBD_REP_ERR_UNKNOWN as ENOENT
        assertThat(unknown.out()).contains("server replied with error to opt_go request: No such file or directory");

        try (Client c = Client.handshake(port)) {
            c.option(NbdProtocol.OPT_GO, new ExportRequest("no-such-export", List.of()).encode());
            assertThat(c.optionReplyType(NbdProtocol.OPT_GO)).isEqualTo(NbdProtocol.REP_ERR_UNKNOWN);
            // the connection stays usable: an error reply is not a hang-up
            c.option(NbdProtocol.OPT_GO, new ExportRequest("", List.of()).encode());
            int type = c.optionReplyType(NbdProtocol.OPT_GO);
            assertThat(type).isEqualTo(NbdProtocol.REP_INFO);
            assertThat(c.in.readShort()).isEqualTo(NbdProtocol.INFO_EXPORT);
            assertThat(c.in.readLong()).isEqualTo(server.served().orElseThrow().spec().rootBoot().orElseThrow().rootImage().size());
        }
    }

    @Test
    void writesTrimsAndUnknownCommandsAreRefusedAndTheConnectionStaysInStep() throws Exception {
        try (Client c = Client.handshake(port)) {
            c.go(export);
            c.request(new NbdRequest(0, NbdProtocol.CMD_WRITE, 11, 0, 4096), new byte[4096]);
            assertThat(c.simpleReply(11)).isEqualTo(NbdProtocol.EPERM);
            c.request(new NbdRequest(0, NbdProtocol.CMD_TRIM, 12, 0, 4096), new byte[0]);
            assertThat(c.simpleReply(12)).isEqualTo(NbdProtocol.EPERM);
            c.request(new NbdRequest(0, 99, 13, 0, 0), new byte[0]);
            assertThat(c.simpleReply(13)).isEqualTo(NbdProtocol.EINVAL);
            c.request(new NbdRequest(0, NbdProtocol.CMD_READ, 14, server.served().orElseThrow().spec().rootBoot().orElseThrow().rootImage().size() - 10, 4096),
                    new byte[0]);
            assertThat(c.simpleReply(14)).isEqualTo(NbdProtocol.EINVAL);
            c.request(new NbdRequest(0, NbdProtocol.CMD_FLUSH, 15, 0, 0), new byte[0]);
            assertThat(c.simpleReply(15)).isZero();
            c.request(new NbdRequest(0, NbdProtocol.CMD_READ, 16, 0, 4), new byte[0]);
            assertThat(c.simpleReply(16)).isZero();
            assertThat(c.in.readInt()).as("squashfs magic 'hsqs'").isEqualTo(0x68737173);
            // a read of nothing is answered with the header alone, and the stream stays in step
            c.request(new NbdRequest(0, NbdProtocol.CMD_READ, 17, 0, 0), new byte[0]);
            assertThat(c.simpleReply(17)).isZero();
            c.request(new NbdRequest(0, NbdProtocol.CMD_READ, 18, 0, 4), new byte[0]);
            assertThat(c.simpleReply(18)).isZero();
            assertThat(c.in.readInt()).isEqualTo(0x68737173);
        }
    }

    @Test
    void malformedHandshakesAndRequestsCloseThatConnectionOnly() throws Exception {
        long before = server.nbd().orElseThrow().malformed();
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            in.readFully(new byte[18]);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(NbdProtocol.FLAG_C_FIXED_NEWSTYLE);
            out.write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertClosed(in);
        }
        try (Client c = Client.handshake(port)) {
            c.go(export);
            c.out.write(new byte[28]); // magic 0
            c.out.flush();
            assertClosed(c.in);
        }
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            in.readFully(new byte[18]);
            new DataOutputStream(s.getOutputStream()).writeInt(0x80); // an unknown client flag
            assertClosed(in);
        }
        assertThat(server.nbd().orElseThrow().malformed()).isEqualTo(before + 3);
        Run info = run("nbdinfo", "--size", uri(export));
        assertThat(info.exit()).as(info.out()).isZero();
        assertThat(info.out().strip()).isEqualTo(Long.toString(server.served().orElseThrow().spec().rootBoot().orElseThrow().rootImage().size()));
    }

    /** The server closed: an end of stream, or a reset when it closed with our bytes still unread. */
    static void assertClosed(DataInputStream in) throws IOException {
        try {
            assertThat(in.read()).as("closed").isEqualTo(-1);
        } catch (java.net.SocketException e) {
            assertThat(e.getMessage()).contains("Connection reset");
        }
    }

    /** The protocol by hand, for what real clients never send. */
    static final class Client implements AutoCloseable {
        final Socket socket;
        final DataInputStream in;
        final DataOutputStream out;

        private Client(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new DataInputStream(socket.getInputStream());
            this.out = new DataOutputStream(socket.getOutputStream());
        }

        static Client handshake(int port) throws IOException {
            Client c = new Client(new Socket(InetAddress.getLoopbackAddress(), port));
            c.socket.setSoTimeout(10_000);
            assertThat(c.in.readLong()).isEqualTo(NbdProtocol.NBDMAGIC);
            assertThat(c.in.readLong()).isEqualTo(NbdProtocol.IHAVEOPT);
            assertThat(c.in.readShort() & NbdProtocol.FLAG_FIXED_NEWSTYLE).isNotZero();
            c.out.writeInt(NbdProtocol.FLAG_C_FIXED_NEWSTYLE);
            return c;
        }

        void option(int option, byte[] data) throws IOException {
            ByteBuffer h = ByteBuffer.allocate(16);
            new OptionHeader(option, data.length).encode(h);
            out.write(h.array());
            out.write(data);
            out.flush();
        }

        /** Reads one reply header, returns its type; its data is left to read (or skipped for errors). */
        int optionReplyType(int option) throws IOException {
            assertThat(in.readLong()).isEqualTo(NbdProtocol.OPTION_REPLY_MAGIC);
            assertThat(in.readInt()).isEqualTo(option);
            int type = in.readInt();
            int length = in.readInt();
            if (type < 0) {
                in.readFully(new byte[length]);
            }
            return type;
        }

        void go(String name) throws IOException {
            option(NbdProtocol.OPT_GO, new ExportRequest(name, List.of()).encode());
            while (true) {
                assertThat(in.readLong()).isEqualTo(NbdProtocol.OPTION_REPLY_MAGIC);
                in.readInt();
                int type = in.readInt();
                in.readFully(new byte[in.readInt()]);
                if (type == NbdProtocol.REP_ACK) {
                    return;
                }
                assertThat(type).isEqualTo(NbdProtocol.REP_INFO);
            }
        }

        void request(NbdRequest r, byte[] data) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(28);
            r.encode(b);
            out.write(b.array());
            out.write(data);
            out.flush();
        }

        int simpleReply(long cookie) throws IOException {
            assertThat(in.readInt()).isEqualTo(NbdProtocol.SIMPLE_REPLY_MAGIC);
            int error = in.readInt();
            assertThat(in.readLong()).isEqualTo(cookie);
            return error;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
