package dev.pivot.store;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private PostgreSQL cluster from Debian's postgresql package: initdb in a temp dir, postgres on 127.0.0.1 at
 * a free port, trust auth. As root it runs as the postgres user (initdb refuses root). Stopped by its PID.
 */
public final class PostgresCluster implements AutoCloseable {

    private final Path dir;
    private Process server;
    private final Path bin;
    private final List<String> prefix;
    final int port;

    private final String listen;

    private PostgresCluster(Path bin, List<String> prefix, Path dir, Process server, int port, String listen) {
        this.listen = listen;
        this.bin = bin;
        this.prefix = prefix;
        this.dir = dir;
        this.server = server;
        this.port = port;
    }

    public String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    /** The bin directory of the newest installed PostgreSQL, or empty. */
    public static Optional<Path> binDir() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("postgres")))
                    .max(Comparator.comparing(p -> Integer.parseInt(p.getParent().getFileName().toString())));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * The bin directory of the newest installed PostgreSQL, for a test that needs one: fails the test naming the
     * Debian package when none is, and (as root, when the server runs as its own user) when runuser is missing.
     */
    public static Path requireBinDir() {
        Path bin = binDir().orElseThrow(() -> new AssertionError(
                "no /usr/lib/postgresql/*/bin/postgres (Debian package postgresql)"));
        if (isRoot()) {
            dev.pivot.testsupport.Require.command("runuser");
        }
        return bin;
    }

    static boolean isRoot() {
        return dev.pivot.testsupport.Require.isRoot();
    }

    public static PostgresCluster start(Path bin) throws IOException, InterruptedException {
        return start(bin, List.of());
    }

    /**
     * @param prefix a command that runs postgres elsewhere, e.g. {@code ip netns exec NS}: it then listens on that
     *               namespace's 127.0.0.1, for a server under test that runs there
     */
    public static PostgresCluster start(Path bin, List<String> prefix) throws IOException, InterruptedException {
        return start(bin, prefix, "127.0.0.1");
    }

    /** @param listen the address postgres listens on inside its namespace (servers in other namespaces reach it
     *               over a test LAN) */
    public static PostgresCluster start(Path bin, List<String> prefix, String listen)
            throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("pivot-pg-");
        List<String> asUser = isRoot() ? List.of("runuser", "-u", "postgres", "--") : List.of();
        if (isRoot()) {
            run(List.of("chown", "postgres:postgres", dir.toString()));
        }
        Path data = dir.resolve("data");
        List<String> initdb = new ArrayList<>(asUser);
        initdb.addAll(List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "pivot",
                "--auth=trust", "-E", "UTF8", "--no-sync"));
        run(initdb);
        if (!listen.equals("127.0.0.1")) {
            // Servers on the test LAN: trusted like loopback (the LAN exists only inside the test's namespaces).
            Files.writeString(data.resolve("pg_hba.conf"), "host all all samenet trust\n",
                    java.nio.file.StandardOpenOption.APPEND);
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        PostgresCluster cluster = new PostgresCluster(bin, prefix, dir, launch(bin, prefix, dir, port, listen), port,
                listen);
        try {
            cluster.awaitReady();
        } catch (IOException e) {
            cluster.close();
            throw e;
        }
        return cluster;
    }

    private static Process launch(Path bin, List<String> prefix, Path dir, int port, String listen)
            throws IOException {
        List<String> postgres = new ArrayList<>(prefix);
        postgres.addAll(isRoot() ? List.of("runuser", "-u", "postgres", "--") : List.of());
        postgres.addAll(List.of(bin.resolve("postgres").toString(), "-D", dir.resolve("data").toString(), "-p",
                String.valueOf(port), "-c", "listen_addresses=" + listen, "-c", "unix_socket_directories=" + dir,
                "-c", "fsync=off"));
        return new ProcessBuilder(postgres).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("postgres.log").toFile())).start();
    }

    /** The URL servers use to reach it on its listen address, as user pivot. */
    public String urlOnListenAddress() {
        return "jdbc:postgresql://" + listen + ":" + port + "/postgres?user=pivot";
    }

    /** Runs one SQL statement with psql over the Unix socket (which any namespace shares); its rows, unaligned. */
    public String psql(String sql) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(bin.resolve("psql").toString(), "-X", "-q", "-At", "-h", dir.toString(), "-p",
                String.valueOf(port), "-U", "pivot", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("psql " + sql + " failed: " + out);
        }
        return out.strip();
    }

    /** Stops the server (as an outage would), keeping its data for {@link #restart}. */
    public void stop() throws InterruptedException {
        server.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
        server.destroyForcibly();
        server.waitFor(20, TimeUnit.SECONDS);
    }

    /**
     * Freezes every PostgreSQL process (SIGSTOP): connections stay open and nothing answers, as with a database host
     * that hangs or a network that drops its packets. {@link #thaw} (and {@link #close}) let it go on.
     */
    public void freeze() throws IOException, InterruptedException {
        frozen = true;
        signal("-STOP");
    }

    public void thaw() throws IOException, InterruptedException {
        signal("-CONT");
        frozen = false;
    }

    private boolean frozen;

    /**
     * Signals every process of the server that still runs. kill's exit status is not checked: a process may end
     * between the listing and the signal (a backend whose client left), which is no failure of the signal.
     */
    private void signal(String which) throws IOException, InterruptedException {
        List<String> kill = new ArrayList<>(List.of("kill", which));
        server.toHandle().descendants().forEach(h -> kill.add(Long.toString(h.pid())));
        kill.add(Long.toString(server.pid()));
        Process p = new ProcessBuilder(kill).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", kill) + " did not finish");
        }
    }

    /** Starts the server again on the same data and port. */
    public void restart() throws IOException, InterruptedException {
        server = launch(bin, prefix, dir, port, listen);
        awaitReady();
    }

    /** Ready once pg_isready answers over the Unix socket, which any network namespace shares. */
    private void awaitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) {
                throw new IOException("postgres exited: " + Files.readString(dir.resolve("postgres.log")));
            }
            Process ready = new ProcessBuilder(bin.resolve("pg_isready").toString(), "-q", "-h", dir.toString(),
                    "-p", String.valueOf(port)).redirectErrorStream(true).start();
            if (ready.waitFor(10, TimeUnit.SECONDS) && ready.exitValue() == 0) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IOException("postgres did not accept connections on port " + port + " within 30 s");
    }

    private static void run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (frozen && server.isAlive()) {
            signal("-CONT"); // a frozen server cannot shut down
        }
        // runuser forwards SIGTERM to postgres: a "smart" shutdown; then SIGKILL if it lingers.
        server.toHandle().descendants().forEach(ProcessHandle::destroy);
        server.destroy();
        if (!server.waitFor(20, TimeUnit.SECONDS)) {
            server.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
