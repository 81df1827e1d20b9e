package dev.pivot.api;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.ArtifactSource;
import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.BootEvent;
import dev.pivot.history.EventPipeline;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.http.HttpConfig;
import dev.pivot.http.PivotHttpServer;
import dev.pivot.store.JdbcStore;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Pivot's HTTP server on 127.0.0.1 at a free port with a SQLite store and the operator routes, as `pivot serve`
 * wires them, minus images: the catalog boots nobody. Tests emit events ({@link #emit}) (as the protocol
 * servers would) or send stage-1 reports over HTTP.
 */
public final class ApiServer implements AutoCloseable {

    public final JdbcStore store;
    public final EventPipeline events;
    public final ApiRoutes routes;
    public final PivotHttpServer http;
    public final String base;
    /** The API token (in {@link #tokenFile}), which changes need. */
    public final String token;
    public final Path tokenFile;

    public ApiServer(Path dir) throws IOException {
        this(dir, Map.of());
    }

    /** @param profiles with any, the server boots by a ProfileCatalog (default: the first by name) with assignments */
    public ApiServer(Path dir, Map<String, BootSpec> profiles) throws IOException {
        store = JdbcStore.openSqlite(dir.resolve("pivot.db"));
        events = EventPipeline.over(store, 1024);
        BootCatalog catalog = mac -> Optional.empty();
        if (profiles.isEmpty()) {
            routes = ApiRoutes.create(events, store, store);
        } else {
            ProfileCatalog profileCatalog = new ProfileCatalog(profiles, Map.of(),
                    Optional.of(new TreeSet<>(profiles.keySet()).first()), store);
            routes = ApiRoutes.create(events, store, store, profileCatalog, store);
            catalog = profileCatalog;
        }
        tokenFile = dir.resolve("api-token");
        routes.requireToken(ApiAccess.fromFile(tokenFile, false));
        token = Files.readString(tokenFile).strip();
        ArtifactSource none = new ArtifactSource() {
            @Override
            public Optional<Artifact> find(String sha256) {
                return Optional.empty();
            }

            @Override
            public Path path(Artifact artifact) {
                throw new IllegalStateException("no artifacts");
            }
        };
        http = new PivotHttpServer(new HttpConfig(InetAddress.getLoopbackAddress(), 0, Optional.empty(),
                Files.createDirectories(dir.resolve("ipxe"))), catalog, none, new AddressBook(),
                events, routes);
        http.start();
        base = "http://127.0.0.1:" + http.port();
    }

    /** Emits as a protocol server would, then waits until the event is recorded and its listeners ran. */
    public void emit(BootEvent event) {
        events.emit(event);
        try {
            if (!events.flush(java.time.Duration.ofSeconds(10))) {
                throw new IllegalStateException("event not recorded within 10 s: " + event);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        http.close();
        events.close();
        store.close();
    }
}
