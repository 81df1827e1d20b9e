package dev.pivot.server;

import dev.pivot.boot.Generations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.util.List;
import java.util.function.Supplier;

/**
 * With a database other servers share, what they change in the profiles' generations reaches this one: a build one
 * of them recorded, a rollback made through another's API, a generation it pruned. Read again after each of this
 * server's heartbeats (off the protocol threads, and not while the store is down); a boot-script request reads the
 * generations in memory as ever. A generation whose build this server never imported is served once its artifacts
 * are fetched from a server that has them ({@link PeerArtifacts}).
 */
final class SharedGenerations implements Runnable {

    private static final Logger log = LoggerFactory.getLogger(SharedGenerations.class);

    private final Generations generations;
    private final PrintStream out;
    private final PeerArtifacts fetching;
    private final Supplier<List<String>> peers;
    private int failures;

    /** @param peers the other live servers' base URLs */
    SharedGenerations(Generations generations, PrintStream out, PeerArtifacts fetching, Supplier<List<String>> peers) {
        this.generations = generations;
        this.out = out;
        this.fetching = fetching;
        this.peers = peers;
    }

    @Override
    public void run() {
        try {
            for (String profile : generations.refreshAll()) {
                generations.of(profile).ifPresent(pg -> {
                    synchronized (out) {
                        out.printf("pivot: profile %s: generations %s from the shared database, generation %d the"
                                + " default%n", profile, pg.newestFirst().stream()
                                .map(g -> Integer.toString(g.number())).toList(), pg.defaultGeneration().number());
                        out.flush();
                    }
                });
            }
            failures = 0;
            fetching.fetchMissing(generations.notHere().stream().flatMap(spec -> spec.artifacts().stream()).toList(),
                    peers.get());
        } catch (RuntimeException e) {
            // The generations in memory stay served. Once, right after a beat, it is the store going down, which the
            // heartbeat reports; twice in a row, beats reach the store and this does not, which is this one's to say.
            if (++failures == 2) {
                log.warn("generations: cannot read them from the shared database: {}", e.toString());
            } else {
                log.debug("generations: cannot read them from the shared database: {}", e.toString());
            }
        }
    }
}
