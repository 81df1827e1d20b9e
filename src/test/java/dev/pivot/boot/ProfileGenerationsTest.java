package dev.pivot.boot;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProfileGenerationsTest {

    static final Instant T0 = Instant.parse("2026-12-01T10:00:00Z");

    static BootSpec spec(int n) {
        Artifact a = new Artifact(String.format("%064x", n), n, "bzImage");
        return new BootSpec(a, List.of(a), a, "/nix/store/x-nixos-system-pc-24.11/init", List.of(), "/pivot/init");
    }

    /** Generations 1..n, one day apart; the newest imported at T0 + n days. */
    static ProfileGenerations upTo(int n) {
        ProfileGenerations pg = ProfileGenerations.first("pc", gen(1));
        for (int i = 2; i <= n; i++) {
            pg = pg.with(gen(i));
        }
        return pg;
    }

    static Generation gen(int n) {
        Instant at = T0.plus(Duration.ofDays(n));
        return new Generation(n, spec(n), "24.11", at, at, "/nix/store/" + n);
    }

    static final GenerationPolicy KEEP_3 = new GenerationPolicy(3, Optional.empty(), 5);

    @Test
    void prunesBeyondTheCountOldestFirst() {
        ProfileGenerations pg = upTo(5);
        assertThat(pg.prunable(KEEP_3, Set.of(), T0)).extracting(Generation::number).containsExactly(2, 1);
        assertThat(pg.without(pg.prunable(KEEP_3, Set.of(), T0)).newestFirst()).extracting(Generation::number)
                .containsExactly(5, 4, 3);
    }

    @Test
    void neverPrunesAnAssignedGenerationNorTheDefault() {
        ProfileGenerations pg = upTo(6).rolledBack(OptionalInt.of(2));
        assertThat(pg.prunable(KEEP_3, Set.of(1), T0)).extracting(Generation::number).containsExactly(3);
    }

    @Test
    void prunesByAgeButNeverTheNewest() {
        GenerationPolicy week = new GenerationPolicy(10, Optional.of(Duration.ofDays(7)), 5);
        Instant now = T0.plus(Duration.ofDays(12));
        // imported on days 1..5: older than 7 days at day 12 are 1..4; 5 is the newest
        assertThat(upTo(5).prunable(week, Set.of(), now)).extracting(Generation::number).containsExactly(4, 3, 2, 1);
        assertThat(upTo(1).prunable(week, Set.of(), now)).isEmpty();
    }

    @Test
    void theNewestIsTheDefaultUntilARollbackAndANewBuildUndoesIt() {
        ProfileGenerations pg = upTo(3);
        assertThat(pg.defaultGeneration().number()).isEqualTo(3);
        ProfileGenerations back = pg.rolledBack(OptionalInt.empty());
        assertThat(back.defaultGeneration().number()).isEqualTo(2);
        assertThat(back.rolledBack(OptionalInt.empty()).defaultGeneration().number()).isEqualTo(1);
        assertThat(back.rolledBack(OptionalInt.of(3)).pinned()).isEmpty();
        assertThat(back.with(gen(4)).defaultGeneration().number()).isEqualTo(4);
    }

    @Test
    void aRollbackPastTheOldestOrToAnUnknownGenerationIsRefusedByName() {
        assertThatThrownBy(() -> upTo(1).rolledBack(OptionalInt.empty()))
                .hasMessage("profile pc: generation 1 is the oldest kept, nothing to roll back to");
        assertThatThrownBy(() -> upTo(3).rolledBack(OptionalInt.of(7)))
                .hasMessage("profile pc has no generation 7 (has 3, 2, 1)");
    }

    @Test
    void generationsStoreAndPruneThroughTheirPolicyAndKeepAssignedOnes() {
        ProfileCatalogTest.MemoryAssignments assignments = new ProfileCatalogTest.MemoryAssignments();
        MacAddress mac = MacAddress.parse("52:54:00:00:00:07");
        Generations gens = new Generations(Optional.empty(), Optional.of(assignments),
                new GenerationPolicy(2, Optional.empty(), 5));
        gens.addBuild("pc", spec(1), "24.11", T0, "/1", T0);
        assignments.assign(new Assignments.Assignment(mac, "pc", false, T0, OptionalInt.of(1)));
        gens.addBuild("pc", spec(2), "24.11", T0, "/2", T0);
        assertThat(gens.addBuild("pc", spec(2), "24.11", T0, "/2", T0)).as("the same build again").isEmpty();
        gens.addBuild("pc", spec(3), "24.11", T0, "/3", T0);
        gens.addBuild("pc", spec(4), "24.11", T0, "/4", T0);
        assertThat(gens.of("pc").orElseThrow().newestFirst()).extracting(Generation::number)
                .containsExactly(4, 3, 1);
        assertThat(gens.allSpecs()).containsExactlyInAnyOrder(spec(4), spec(3), spec(1));
    }
}
