package dev.pivot.cli;

import dev.pivot.format.cpio.CpioWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** `pivot serve` refuses bad input with one line that names the input and what is wrong, and a non-zero exit. */
class ServeCommandTest {

    private static final String NETBOOT_IPXE = """
            #!ipxe
            # Use the cmdline variable to allow the user to specify custom kernel params
            # when chainloading this script from other iPXE scripts like netboot.xyz
            kernel bzImage init=/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-t-24.11/init initrd=initrd loglevel=4 ${cmdline}
            initrd initrd
            boot
            """;

    @TempDir
    Path tmp;

    record Run(int exit, String err) {
    }

    private Run serve(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setErr(new PrintWriter(err, true));
        String[] full = new String[args.length + 1];
        full[0] = "serve";
        System.arraycopy(args, 0, full, 1, args.length);
        return new Run(cmd.execute(full), err.toString());
    }

    private static void gzipCpio(Path file, CpioBody body) throws IOException {
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file));
             CpioWriter cpio = new CpioWriter(out)) {
            body.write(cpio);
            cpio.finish();
        }
    }

    interface CpioBody {
        void write(CpioWriter cpio) throws IOException;
    }

    /** A netboot dir whose initrd is a gzip stage-1 cpio followed (or not) by a cpio holding the squashfs. */
    private Path netbootDir(boolean withSquashfs, String script) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("result"));
        Files.write(dir.resolve("bzImage"), new byte[4096]);
        Path stage1 = tmp.resolve("stage1.gz");
        gzipCpio(stage1, cpio -> cpio.file("init", 0755, "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8)));
        ByteArrayOutputStream initrd = new ByteArrayOutputStream();
        initrd.write(Files.readAllBytes(stage1));
        if (withSquashfs) {
            Path root = tmp.resolve("root.gz");
            gzipCpio(root, cpio -> cpio.file("nix-store.squashfs", 0644, "hsqs-not-really".getBytes(StandardCharsets.UTF_8)));
            initrd.write(Files.readAllBytes(root));
        }
        Files.write(dir.resolve("initrd"), initrd.toByteArray());
        if (script != null) {
            Files.writeString(dir.resolve("netboot.ipxe"), script);
        }
        return dir;
    }

    private String[] loopback(Path dir, int httpPort) {
        return new String[]{dir.toString(), "--listen", "127.0.0.1", "--dhcp", "off", "--http-port",
                String.valueOf(httpPort), "--tftp-port", "0", "--state", tmp.resolve("state").toString()};
    }

    @Test
    void aBadStallDeadlineIsNamed() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE);
        Run run = serve(concat(loopback(dir, 0), "--stall-after", "initrd=soon"));
        assertThat(run.exit()).isNotZero();
        assertThat(run.err().strip()).startsWith("pivot: ").contains("--stall-after initrd=soon", "'soon'")
                .doesNotContain("Exception").hasLineCount(1);
    }

    @Test
    void sharedLeasesNeedFullDhcpAndAPostgresDatabase() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE);
        Run withoutDhcp = serve(concat(loopback(dir, 0), "--dhcp-leases", "store"));
        assertThat(withoutDhcp.exit()).isNotZero();
        assertThat(withoutDhcp.err().strip()).startsWith("pivot: ").contains("--dhcp-leases store", "--dhcp full")
                .hasLineCount(1);
        Run withSqlite = serve(dir.toString(), "--listen", "127.0.0.1", "--dhcp", "full", "--range",
                "127.0.0.50-127.0.0.60", "--http-port", "0", "--tftp-port", "0", "--state",
                tmp.resolve("state").toString(), "--dhcp-leases", "store");
        assertThat(withSqlite.exit()).isNotZero();
        assertThat(withSqlite.err().strip()).contains("--dhcp-leases store", "jdbc:postgresql:").hasLineCount(1);
        Run badName = serve(concat(loopback(dir, 0), "--server-name", "a b"));
        assertThat(badName.err().strip()).contains("--server-name a b").hasLineCount(1);
    }

    @Test
    void routerAdvertisementsAreOnByDefaultAndTheSwitchTurnsThemOff() {
        ServeCommand on = new ServeCommand();
        CommandLine.populateCommand(on, "DIR", "--listen", "127.0.0.1");
        assertThat(on.config().ipv6Ra()).isTrue();
        ServeCommand off = new ServeCommand();
        CommandLine.populateCommand(off, "DIR", "--listen", "127.0.0.1", "--no-ipv6-ra", "--stall-after",
                "initrd=40", "--stall-after", "network=off");
        assertThat(off.config().ipv6Ra()).isFalse();
        assertThat(off.config().stallDeadlines().after(dev.pivot.boot.Step.INITRD))
                .contains(java.time.Duration.ofSeconds(40));
        assertThat(off.config().stallDeadlines().after(dev.pivot.boot.Step.NETWORK)).isEmpty();
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void aDirWithoutNetbootIpxeIsNamed() throws IOException {
        Path dir = netbootDir(true, null);
        Run run = serve(loopback(dir, 0));
        assertThat(run.exit()).isNotZero();
        assertThat(run.err().strip()).startsWith("pivot: ").contains(dir.toString(), "no netboot.ipxe")
                .doesNotContain("Exception").hasLineCount(1);
    }

    @Test
    void aScriptWithoutInitIsNamed() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE.replaceAll("init=\\S+ ", ""));
        Run run = serve(loopback(dir, 0));
        assertThat(run.exit()).isNotZero();
        assertThat(run.err().strip()).contains("netboot.ipxe", "init=").hasLineCount(1);
    }

    @Test
    void anInitrdWithoutSquashfsIsNamed() throws IOException {
        Path dir = netbootDir(false, NETBOOT_IPXE);
        Run run = serve(loopback(dir, 0));
        assertThat(run.exit()).isNotZero();
        assertThat(run.err().strip()).contains(dir.resolve("initrd").toString(), "nix-store.squashfs")
                .hasLineCount(1);
    }

    @Test
    void aPortThatCannotBeBoundIsNamed() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE);
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            List<String> args = new ArrayList<>(List.of(loopback(dir, taken.getLocalPort())));
            args.add("--skip-check"); // the fake root image would be refused before the port is tried
            Run run = serve(args.toArray(String[]::new));
            assertThat(run.exit()).isNotZero();
            // --skip-check still names the check's errors; the port problem is the one line after them.
            assertThat(run.err().strip().lines().filter(l -> !l.startsWith("pivot: ERROR ")).toList())
                    .singleElement().asString().contains("127.0.0.1:" + taken.getLocalPort());
        }
    }

    @Test
    void fullDhcpWithoutARangeIsRefused() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE);
        Run run = serve(dir.toString(), "--listen", "127.0.0.1", "--dhcp", "full", "--http-port", "0",
                "--tftp-port", "0", "--state", tmp.resolve("state").toString(), "--skip-check");
        assertThat(run.exit()).isNotZero();
        assertThat(run.err()).contains("--range");
    }

    @Test
    void aTftpBlockSizeOutsideRfc2348IsNamed() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE);
        List<String> args = new ArrayList<>(List.of(loopback(dir, 0)));
        args.addAll(List.of("--tftp-max-blksize", "4", "--skip-check"));
        Run run = serve(args.toArray(String[]::new));
        assertThat(run.exit()).isNotZero();
        assertThat(run.err().strip()).startsWith("pivot: ").contains("--tftp-max-blksize 4", "8..65464")
                .doesNotContain("Exception").hasLineCount(1);
    }

    @Test
    void anImageTheCheckFindsBrokenIsRefusedWithOneLinePerError() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE);
        Run run = serve(loopback(dir, 0));
        assertThat(run.exit()).isEqualTo(2);
        List<String> lines = run.err().strip().lines().toList();
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("pivot: ERROR root-image: ")
                .contains("truncated"));
        assertThat(lines.getLast()).startsWith("pivot: refusing to serve " + dir).contains("--skip-check");
        assertThat(lines).allSatisfy(l -> assertThat(l).startsWith("pivot: "));
    }

    @Test
    void nativeModeIsRefusedUpFrontWhenTheMachinesLackTheRamItNeeds() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE);
        List<String> args = new ArrayList<>(List.of(loopback(dir, 0)));
        args.addAll(List.of("--skip-check", "--stage1", "native", "--machine-ram", "200"));
        Run run = serve(args.toArray(String[]::new));
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err().strip().lines().filter(l -> !l.startsWith("pivot: ERROR ")).toList()).singleElement()
                .asString().startsWith("pivot: refusing --stage1 native: ")
                .contains("256 MiB of RAM per machine", "200 MiB (--machine-ram)", "use --stage1 prelude");
    }

    @Test
    void fullDhcpWithoutARangeFailsBeforeTheImageIsImported() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE);
        Path state = tmp.resolve("state");
        Run run = serve(dir.toString(), "--listen", "127.0.0.1", "--dhcp", "full", "--http-port", "0",
                "--tftp-port", "0", "--state", state.toString());
        assertThat(run.exit()).isEqualTo(2);
        // Not the image check's findings on this fake image, nor its import: the option, and nothing else.
        assertThat(run.err()).isEqualTo("pivot: --dhcp full needs --range FIRST-LAST\n");
        assertThat(state).as("nothing imported, the state directory not even made").doesNotExist();
    }

    @Test
    void aStateThatIsAFileIsNamedInOneLine() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE);
        Path file = Files.writeString(tmp.resolve("not-a-dir"), "x");
        Run run = serve(dir.toString(), "--listen", "127.0.0.1", "--dhcp", "off", "--state", file.toString());
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).isEqualTo("pivot: --state " + file + ": is a file, not a directory\n");

        Run below = serve(dir.toString(), "--listen", "127.0.0.1", "--dhcp", "off", "--state",
                file.resolve("state").toString());
        assertThat(below.err()).isEqualTo("pivot: --state " + file.resolve("state") + ": " + file
                + " is a file, not a directory\n");
    }

    @Test
    void everyOptionIsCheckedBeforeAnyWorkStarts() throws IOException {
        Path dir = netbootDir(true, NETBOOT_IPXE);
        Path state = tmp.resolve("state");
        Path missing = tmp.resolve("missing");
        String[][] cases = {
                {"--http-port", "70000", "pivot: --http-port 70000: expected 0 to 65535 (0: any free port)"},
                {"--tftp-port", "-1", "pivot: --tftp-port -1: expected 0 to 65535 (0: any free port)"},
                {"--tftp-root", missing.toString(), "pivot: --tftp-root " + missing + ": no such directory"},
                {"--efi-loader", "../x.efi", "pivot: --efi-loader ../x.efi: expected grub or an iPXE build's file name, such as"
                        + " ipxe.efi or snponly.efi"},
                {"--database", "postgres://db/p?password=secret", "pivot: --database postgres://db/p?…: expected a"
                        + " JDBC URL, e.g. jdbc:postgresql://HOST/DB"},
                {"--profiles", missing.toString(), "pivot: --profiles " + missing + ": no such file"},
                {"--init", "sbin/init", "pivot: --init sbin/init: expected an absolute path, e.g. /sbin/init"},
                {"--router", "10.0.0.1", "pivot: --router only makes sense with --dhcp full"},
                {"--machine-ram", "0", "pivot: --machine-ram 0: expected the machines' RAM in MB, above 0"},
                {"--api-token-file", missing.resolve("token").toString(), "pivot: --api-token-file "
                        + missing.resolve("token") + ": no directory " + missing + " to make it in"},
        };
        for (String[] c : cases) {
            List<String> args = new ArrayList<>(List.of(dir.toString(), "--dhcp", "off", "--state", state.toString(),
                    "--listen", "127.0.0.1"));
            args.addAll(List.of(c[0], c[1]));
            Run run = serve(args.toArray(String[]::new));
            assertThat(run.exit()).as(c[0]).isEqualTo(2);
            assertThat(run.err()).as(c[0]).isEqualTo(c[2] + "\n");
            assertThat(state).as(c[0] + ": checked before the state directory is made").doesNotExist();
        }
    }
}
