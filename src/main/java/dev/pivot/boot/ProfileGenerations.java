package dev.pivot.boot;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A profile's generations at one moment, newest first: an immutable value, swapped as a whole when a build is
 * imported, rolled back or pruned, so a boot in flight always sees one consistent list.
 *
 * @param pinned the generation a rollback made the default; empty: the newest is the default
 */
public record ProfileGenerations(String profile, List<Generation> newestFirst, OptionalInt pinned) {

    public ProfileGenerations {
        newestFirst = List.copyOf(newestFirst);
        if (newestFirst.isEmpty()) {
            throw new IllegalArgumentException("profile " + profile + " has no generation");
        }
        for (int i = 1; i < newestFirst.size(); i++) {
            if (newestFirst.get(i).number() >= newestFirst.get(i - 1).number()) {
                throw new IllegalArgumentException("profile " + profile + ": generations not newest first");
            }
        }
        OptionalInt p = pinned;
        if (p.isPresent() && newestFirst.stream().noneMatch(g -> g.number() == p.getAsInt())) {
            pinned = OptionalInt.empty(); // the pinned one is gone: the newest is the default again
        }
    }

    public static ProfileGenerations first(String profile, Generation g) {
        return new ProfileGenerations(profile, List.of(g), OptionalInt.empty());
    }

    public Generation newest() {
        return newestFirst.getFirst();
    }

    /** What machines of this profile boot unless assigned a generation: the rollback's pin, else the newest. */
    public Generation defaultGeneration() {
        return pinned.isPresent() ? number(pinned.getAsInt()).orElseThrow() : newest();
    }

    public Optional<Generation> number(int n) {
        return newestFirst.stream().filter(g -> g.number() == n).findFirst();
    }

    /** True when {@code spec} is what the newest generation boots already (a restart, the same build again). */
    public boolean newestIs(BootSpec spec) {
        return newest().spec().equals(spec);
    }

    /** The next generation's number. */
    public int nextNumber() {
        return newest().number() + 1;
    }

    /** With {@code g} as the newest generation and the default (a new build undoes a rollback, as on NixOS). */
    public ProfileGenerations with(Generation g) {
        if (g.number() <= newest().number()) {
            throw new IllegalArgumentException("generation " + g.number() + " is not newer than " + newest().number());
        }
        List<Generation> all = new ArrayList<>(newestFirst.size() + 1);
        all.add(g);
        all.addAll(newestFirst);
        return new ProfileGenerations(profile, all, OptionalInt.empty());
    }

    /**
     * The default after `rollback`: generation {@code to}, or without it the one before the current default.
     *
     * @throws IllegalArgumentException naming what is wrong when there is nothing to roll back to
     */
    public ProfileGenerations rolledBack(OptionalInt to) {
        int target;
        if (to.isPresent()) {
            target = to.getAsInt();
            if (number(target).isEmpty()) {
                throw new IllegalArgumentException("profile " + profile + " has no generation " + target + " (has "
                        + numbers() + ")");
            }
        } else {
            int current = defaultGeneration().number();
            target = newestFirst.stream().mapToInt(Generation::number).filter(n -> n < current).max()
                    .orElseThrow(() -> new IllegalArgumentException("profile " + profile + ": generation " + current
                            + " is the oldest kept, nothing to roll back to"));
        }
        return new ProfileGenerations(profile, newestFirst,
                target == newest().number() ? OptionalInt.empty() : OptionalInt.of(target));
    }

    /**
     * Which generations the policy drops: beyond the newest {@code keep}, or older than its age limit — never the
     * newest, the default, or one in {@code assigned} (a machine is assigned to it).
     */
    public List<Generation> prunable(GenerationPolicy policy, Set<Integer> assigned, Instant now) {
        List<Generation> out = new ArrayList<>();
        int defaultNumber = defaultGeneration().number();
        for (int i = 1; i < newestFirst.size(); i++) {
            Generation g = newestFirst.get(i);
            boolean beyondCount = i >= policy.keep();
            boolean tooOld = policy.maxAge().map(age -> Duration.between(g.imported(), now).compareTo(age) > 0)
                    .orElse(false);
            if ((beyondCount || tooOld) && g.number() != defaultNumber && !assigned.contains(g.number())) {
                out.add(g);
            }
        }
        return out;
    }

    /** Without the given generations (never the newest). */
    public ProfileGenerations without(List<Generation> dropped) {
        Set<Integer> gone = new java.util.HashSet<>();
        dropped.forEach(g -> gone.add(g.number()));
        if (gone.contains(newest().number())) {
            throw new IllegalArgumentException("the newest generation cannot be dropped");
        }
        return new ProfileGenerations(profile, newestFirst.stream().filter(g -> !gone.contains(g.number())).toList(),
                pinned);
    }

    private String numbers() {
        return String.join(", ", newestFirst.stream().map(g -> Integer.toString(g.number())).toList());
    }
}
