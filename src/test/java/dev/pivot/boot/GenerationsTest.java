package dev.pivot.boot;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import static dev.pivot.boot.ProfileGenerationsTest.T0;
import static dev.pivot.boot.ProfileGenerationsTest.spec;
import static org.assertj.core.api.Assertions.assertThat;

/** Two servers' generations over one shared store: what one records or rolls back, the other takes in. */
class GenerationsTest {

    /** A store two {@link Generations} share, as two servers share one PostgreSQL database. */
    static final class SharedStore implements GenerationStore {
        final Map<Integer, Generation> generations = new HashMap<>();
        OptionalInt pinned = OptionalInt.empty();

        @Override
        public synchronized Optional<ProfileGenerations> generations(String profile) {
            List<Generation> all = new ArrayList<>(generations.values());
            all.sort((a, b) -> b.number() - a.number());
            return all.isEmpty() ? Optional.empty() : Optional.of(new ProfileGenerations(profile, all, pinned));
        }

        @Override
        public synchronized boolean addGeneration(String profile, Generation g) {
            return generations.putIfAbsent(g.number(), g) == null;
        }

        @Override
        public synchronized void removeGenerations(String profile, List<Integer> numbers) {
            numbers.forEach(generations::remove);
        }

        @Override
        public synchronized void pinDefault(String profile, OptionalInt generation) {
            pinned = generation;
        }

        @Override
        public void recordRunning(Running running) {
        }

        @Override
        public Map<MacAddress, Running> running() {
            return Map.of();
        }
    }

    private static Generations server(SharedStore store) {
        return new Generations(Optional.of(store), Optional.empty(), GenerationPolicy.DEFAULT);
    }

    @Test
    void theSameBuildSeenByTwoServersIsOneGenerationAndEachServesIt() {
        SharedStore store = new SharedStore();
        Generations a = server(store), b = server(store);
        Instant t = T0;
        assertThat(a.addBuild("pc", spec(1), "24.11", t, "/one", t)).map(Generation::number).hasValue(1);
        assertThat(b.addBuild("pc", spec(1), "24.11", t, "/one", t)).as("recorded by a already").isEmpty();
        assertThat(b.of("pc").orElseThrow().defaultGeneration().number()).isEqualTo(1);

        // b saw the next build first this time.
        assertThat(b.addBuild("pc", spec(2), "24.11", t, "/two", t)).map(Generation::number).hasValue(2);
        assertThat(a.addBuild("pc", spec(2), "24.11", t, "/two", t)).isEmpty();
        assertThat(store.generations).containsOnlyKeys(1, 2);
        assertThat(a.of("pc").orElseThrow().defaultGeneration().spec()).isEqualTo(spec(2));
    }

    @Test
    void aServerThatLostTheRaceForANumberTakesTheNextOneForItsOwnBuild() {
        SharedStore store = new SharedStore();
        Generations a = server(store), b = server(store);
        a.addBuild("pc", spec(1), "24.11", T0, "/one", T0);
        b.refresh("pc");
        // a records generation 2 behind b's back; b, not refreshed since, then imports another build.
        a.addBuild("pc", spec(2), "24.11", T0, "/two", T0);
        assertThat(b.addBuild("pc", spec(3), "24.11", T0, "/three", T0)).map(Generation::number).hasValue(3);
        assertThat(b.of("pc").orElseThrow().newestFirst()).extracting(Generation::number).containsExactly(3, 2, 1);
    }

    @Test
    void aRollbackOrANewGenerationThroughOneServerReachesTheOtherWhenItRefreshes() {
        SharedStore store = new SharedStore();
        Generations a = server(store), b = server(store);
        a.addBuild("pc", spec(1), "24.11", T0, "/one", T0);
        a.addBuild("pc", spec(2), "24.11", T0, "/two", T0);
        assertThat(b.refreshAll()).as("b serves nothing yet: nothing to refresh").isEmpty();
        assertThat(b.refresh("pc")).isTrue();
        assertThat(b.of("pc").orElseThrow().defaultGeneration().number()).isEqualTo(2);

        a.rollback("pc", OptionalInt.empty());
        assertThat(b.refreshAll()).containsExactly("pc");
        assertThat(b.of("pc").orElseThrow().defaultGeneration().number()).isEqualTo(1);
        assertThat(b.refreshAll()).as("nothing new").isEmpty();

        a.addBuild("pc", spec(3), "24.11", T0, "/three", T0);
        assertThat(b.refreshAll()).containsExactly("pc");
        assertThat(b.of("pc").orElseThrow().defaultGeneration().number()).as("a new build ends the rollback")
                .isEqualTo(3);
    }

    @Test
    void generationsWhoseArtifactsAreNotHereAreLeftOut() {
        SharedStore store = new SharedStore();
        Generations a = server(store), b = server(store);
        a.addBuild("pc", spec(1), "24.11", T0, "/one", T0);
        b.load("pc", s -> !s.equals(spec(2)));
        a.addBuild("pc", spec(2), "24.11", T0, "/two", T0);
        assertThat(b.refresh("pc")).isFalse();
        assertThat(b.of("pc").orElseThrow().newestFirst()).extracting(Generation::number).containsExactly(1);
        assertThat(b.notHere()).as("what b would fetch from a").containsExactly(spec(2));
        assertThat(a.notHere()).isEmpty();
    }

    /**
     * A build of b's own, while the newest stored generation is a's and not here yet: the number after a's, not
     * after the newest b serves (that one is taken, and would be each time).
     */
    @Test
    void aServersOwnBuildIsNumberedAfterGenerationsNotHereYet() {
        SharedStore store = new SharedStore();
        Generations a = server(store), b = server(store);
        a.addBuild("pc", spec(1), "24.11", T0, "/one", T0);
        b.load("pc", s -> !s.equals(spec(2)));
        a.addBuild("pc", spec(2), "24.11", T0, "/two", T0);
        assertThat(b.addBuild("pc", spec(3), "24.11", T0, "/three", T0)).map(Generation::number).hasValue(3);
        assertThat(b.of("pc").orElseThrow().newestFirst()).extracting(Generation::number).containsExactly(3, 1);

        // Nothing stored is here: b's first build still comes after a's.
        Generations c = server(store);
        c.load("pc", s -> s.equals(spec(4)));
        assertThat(c.addBuild("pc", spec(4), "24.11", T0, "/four", T0)).map(Generation::number).hasValue(4);
        assertThat(store.generations).containsOnlyKeys(1, 2, 3, 4);
    }

    /** Once the artifacts are here (fetched from another server), the next refresh serves the generation. */
    @Test
    void aGenerationIsServedOnceItsArtifactsAreHere() {
        SharedStore store = new SharedStore();
        Generations a = server(store), b = server(store);
        a.addBuild("pc", spec(1), "24.11", T0, "/one", T0);
        java.util.Set<BootSpec> here = new java.util.HashSet<>(List.of(spec(1)));
        b.load("pc", here::contains);
        a.addBuild("pc", spec(2), "24.11", T0, "/two", T0);
        b.refresh("pc");
        assertThat(b.notHere()).containsExactly(spec(2));
        here.add(spec(2));
        assertThat(b.refresh("pc")).isTrue();
        assertThat(b.notHere()).isEmpty();
        assertThat(b.of("pc").orElseThrow().defaultGeneration().number()).isEqualTo(2);
    }
}
