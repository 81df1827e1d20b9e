package dev.pivot.server;

import dev.pivot.boot.Generations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * With a database other servers share, what they change in the profiles' generations reaches this one: a build one
 * of them recorded, a rollback made through another's API, a generation it pruned. Read again every
 * {@link #EVERY}, off the protocol threads; a boot-script request reads the generations in memory as ever.
 */
final class SharedGenerations implements AutoCloseable {

    static final Duration EVERY = Duration.ofSeconds(2);
    private static final Logger log = LoggerFactory.getLogger(SharedGenerations.class);

    private final Generations generations;
    private final PrintStream out;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("pivot-shared-generations").factory());
    private boolean failing;

    SharedGenerations(Generations generations, PrintStream out) {
        this.generations = generations;
        this.out = out;
        timer.scheduleWithFixedDelay(this::refresh, EVERY.toMillis(), EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void refresh() {
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
            if (failing) {
                log.info("generations: the shared database answers again");
            }
            failing = false;
        } catch (RuntimeException e) {
            // The store is down (its outage is reported elsewhere): the generations in memory stay served.
            if (!failing) {
                log.warn("generations: cannot read them from the shared database: {}", e.toString());
            }
            failing = true;
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
