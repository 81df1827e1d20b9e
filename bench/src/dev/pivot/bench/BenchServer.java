package dev.pivot.bench;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.EventSink;
import dev.pivot.http.HttpConfig;
import dev.pivot.http.PivotHttpServer;
import dev.pivot.artifacts.ArtifactStore;

import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * Pivot's HTTP server alone over an artifact store, for the download benchmark: no DHCP, no TFTP, no catalog,
 * loopback only.
 *
 * <pre>BenchServer STORE_DIR PORT [FILE...]</pre>
 * Stores each FILE and prints {@code artifact <sha256> <name>}, then {@code listening <port>} when ready, and
 * serves {@code /artifacts/<sha256>/<name>} until killed.
 */
public final class BenchServer {

    private BenchServer() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            throw new IllegalArgumentException("usage: BenchServer STORE_DIR PORT [FILE...]");
        }
        ArtifactStore store = ArtifactStore.open(Path.of(args[0]));
        int port = Integer.parseInt(args[1]);
        for (int i = 2; i < args.length; i++) {
            Path file = Path.of(args[i]);
            try (InputStream in = Files.newInputStream(file)) {
                Artifact a = store.put(in, file.getFileName().toString());
                System.out.println("artifact " + a.sha256() + " " + a.name());
            }
        }
        PivotHttpServer server = new PivotHttpServer(new HttpConfig(InetAddress.getLoopbackAddress(), port),
                mac -> Optional.empty(), store, new AddressBook(), EventSink.NONE);
        server.start();
        System.out.println("listening " + server.port());
        System.out.flush();
        new CountDownLatch(1).await(); // until the benchmark script kills this process
    }
}
