package dev.pivot.server;

import dev.pivot.api.ApiRoutes;
import dev.pivot.history.EventPipeline;
import dev.pivot.http.PivotHttpServer;
import dev.pivot.store.JdbcStore;
import dev.pivot.store.ServerHeartbeats;

import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Supplier;

/**
 * Where boot events go and stay: the store (SQLite in the state directory, or the database named by --database),
 * the pipeline that commits events to it in batches, off every protocol thread, and, with a shared database, this
 * server's place among the others (its heartbeat row, and the slot that numbers its boot sessions apart from
 * theirs).
 */
record History(JdbcStore store, EventPipeline pipeline, String name, Optional<ServerHeartbeats> beats) {

    /** Opens the store and starts the pipeline; what it starts is added to {@code running}, to be closed. */
    static History open(ServerConfig config, List<AutoCloseable> running) {
        JdbcStore store = config.database().map(url -> JdbcStore.open(url, null, null))
                .orElseGet(() -> JdbcStore.openSqlite(config.state().resolve("pivot.db")));
        running.add(store);
        String name = PivotServer.serverName(config);
        Optional<ServerHeartbeats> beats = Optional.empty();
        if (config.database().isPresent()) {
            ServerHeartbeats joined = ServerHeartbeats.join(config.database().get(), name, Clock.systemUTC());
            running.add(joined);
            beats = Optional.of(joined);
            // Its name on each session it records.
            store.recordAs(name);
        }
        EventPipeline pipeline = beats.map(b -> EventPipeline.over(store, config.eventQueue(),
                ServerHeartbeats.SLOTS, b.slot())).orElseGet(() -> EventPipeline.over(store, config.eventQueue()));
        running.add(pipeline);
        return new History(store, pipeline, name, beats);
    }

    /**
     * Health and membership on the API: with a shared database this server beats into it and sees the others.
     * Returns the other live servers' base URLs, which GRUB's configs and HTTP name as fallbacks (none without a
     * shared database). {@code nbdPort}: this server's, named on /healthz for stage 1 (each server may use its own).
     */
    Supplier<List<String>> announce(ApiRoutes api, PivotHttpServer http, String selfUrl, OptionalInt nbdPort) {
        if (beats.isEmpty()) {
            api.health(() -> new ApiRoutes.Health(!pipeline.storeFailing(), name,
                    List.of(new ApiRoutes.Health.Peer(name, selfUrl)), nbdPort));
            return List::of;
        }
        ServerHeartbeats beating = beats.get().start(selfUrl);
        api.health(() -> new ApiRoutes.Health(beating.storeUp(), name, beating.live().stream()
                .map(b -> new ApiRoutes.Health.Peer(b.name(), b.url())).toList(), nbdPort));
        Supplier<List<String>> peers = () -> beating.live().stream()
                .filter(b -> !b.name().equals(name) && !b.url().isEmpty()).map(ServerHeartbeats.Server::url).toList();
        http.peers(peers);
        return peers;
    }
}
