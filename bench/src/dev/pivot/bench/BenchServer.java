package dev.pivot.bench;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.BootSpec;
import dev.pivot.events.EventSink;
import dev.pivot.http.HttpConfig;
import dev.pivot.http.IpxeScript;
import dev.pivot.http.PivotHttpServer;
import dev.pivot.image.ArtifactStore;
import dev.pivot.image.ImportedImage;
import dev.pivot.image.NetbootImport;
import dev.pivot.initrd.Prelude;

import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * Pivot's HTTP server alone, over a store, for the benchmarks: no DHCP, no TFTP, loopback only.
 *
 * <pre>
 * BenchServer --store DIR --port N [--file PATH] [--netboot DIR [--nginx-root DIR --nginx-url URL --machines N]]
 * </pre>
 * {@code --file} stores a file and prints {@code artifact <sha256> <name>}; {@code --netboot} imports a netboot
 * directory, boots every MAC with it, and with {@code --nginx-root} lays out the same URLs as static files
 * (artifacts hard-linked from the store, one script per storm MAC pointing at {@code --nginx-url}) so nginx can
 * serve exactly what Pivot serves. Prints {@code listening <port>} when ready and serves until killed.
 */
public final class BenchServer {

    private BenchServer() {
    }

    public static void main(String[] args) throws Exception {
        Path store = null;
        int port = 0;
        List<Path> files = new ArrayList<>();
        Path netboot = null;
        Path nginxRoot = null;
        String nginxUrl = null;
        int machines = 0;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--store" -> store = Path.of(need(args[i], value));
                case "--port" -> port = Integer.parseInt(need(args[i], value));
                case "--file" -> files.add(Path.of(need(args[i], value)));
                case "--netboot" -> netboot = Path.of(need(args[i], value));
                case "--nginx-root" -> nginxRoot = Path.of(need(args[i], value));
                case "--nginx-url" -> nginxUrl = need(args[i], value);
                case "--machines" -> machines = Integer.parseInt(need(args[i], value));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
            i++;
        }
        if (store == null) {
            throw new IllegalArgumentException("--store DIR is required");
        }
        ArtifactStore artifacts = ArtifactStore.open(store);
        for (Path file : files) {
            try (InputStream in = Files.newInputStream(file)) {
                Artifact a = artifacts.put(in, file.getFileName().toString());
                System.out.println("artifact " + a.sha256() + " " + a.name());
            }
        }
        BootCatalog catalog = mac -> Optional.empty();
        if (netboot != null) {
            ImportedImage image = NetbootImport.importDir(netboot, artifacts);
            BootSpec spec = NetbootImport.toBootSpec(image, Prelude.build(artifacts));
            catalog = BootCatalog.everyone(spec);
            if (nginxRoot != null) {
                layOutForNginx(spec, artifacts, nginxRoot, nginxUrl, machines);
            }
        }
        PivotHttpServer server = new PivotHttpServer(new HttpConfig(InetAddress.getLoopbackAddress(), port),
                catalog, artifacts, new AddressBook(), EventSink.NONE);
        server.start();
        System.out.println("listening " + server.port());
        System.out.flush();
        new CountDownLatch(1).await(); // until the benchmark script kills this process
    }

    private static void layOutForNginx(BootSpec spec, ArtifactStore store, Path root, String baseUrl, int machines)
            throws Exception {
        if (baseUrl == null) {
            throw new IllegalArgumentException("--nginx-root needs --nginx-url");
        }
        List<Artifact> all = new ArrayList<>();
        all.add(spec.kernel());
        all.addAll(spec.initrds());
        all.add(spec.rootImage());
        for (Artifact a : all) {
            Path link = root.resolve("artifacts").resolve(a.sha256()).resolve(a.name());
            Files.createDirectories(link.getParent());
            Files.deleteIfExists(link);
            Files.createLink(link, store.path(a)); // same inode: both servers read the same cached pages
        }
        Path scripts = Files.createDirectories(root.resolve("scripts"));
        for (int i = 0; i < machines; i++) {
            var mac = BootStorm.mac(i);
            Files.writeString(scripts.resolve(mac + ".ipxe"), IpxeScript.forMachine(spec, baseUrl, mac));
        }
    }

    private static String need(String option, String value) {
        if (value == null) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return value;
    }
}
