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
final class PostgresCluster implements AutoCloseable {

    private final Path dir;
    private final Process server;
    final int port;

    private PostgresCluster(Path dir, Process server, int port) {
        this.dir = dir;
        this.server = server;
        this.port = port;
    }

    String url() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    /** The bin directory of the newest installed PostgreSQL, or empty. */
    static Optional<Path> binDir() {
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

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static PostgresCluster start(Path bin) throws IOException, InterruptedException {
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
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        List<String> postgres = new ArrayList<>(asUser);
        postgres.addAll(List.of(bin.resolve("postgres").toString(), "-D", data.toString(), "-p",
                String.valueOf(port), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + dir,
                "-c", "fsync=off"));
        Process server = new ProcessBuilder(postgres).redirectErrorStream(true)
                .redirectOutput(dir.resolve("postgres.log").toFile()).start();
        PostgresCluster cluster = new PostgresCluster(dir, server, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (!server.isAlive()) {
                String log = Files.readString(dir.resolve("postgres.log"));
                cluster.close();
                throw new IOException("postgres exited: " + log);
            }
            try (var c = java.sql.DriverManager.getConnection(cluster.url(), "pivot", "")) {
                return cluster;
            } catch (java.sql.SQLException notYet) {
                Thread.sleep(100);
            }
        }
        cluster.close();
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
