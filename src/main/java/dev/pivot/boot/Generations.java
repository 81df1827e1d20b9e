package dev.pivot.boot;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Every profile's generations. Readers (every boot-script request) take the current immutable map without a
 * lock; a change (a new build, a rollback, pruning) is made under this object's lock, written to the store first,
 * and then published as a whole new map, so no boot in flight sees half a change.
 */
public final class Generations {

    private final Optional<GenerationStore> store;
    private final Optional<Assignments> assignments;
    private final GenerationPolicy policy;
    private final Map<String, List<String>> extraArgs = new HashMap<>();
    private volatile java.util.function.UnaryOperator<BootSpec> transport = java.util.function.UnaryOperator.identity();
    private volatile Map<String, ProfileGenerations> current = Map.of();
    /** Per profile, which stored generations this server can serve (their artifacts are here); see {@link #load}. */
    private final Map<String, Predicate<BootSpec>> usable = new HashMap<>();
    private volatile List<BootSpec> allSpecs = List.of();
    /** Per profile, the stored generations' specs this server cannot serve yet (artifacts not here), newest first. */
    private final Map<String, List<BootSpec>> notHere = new HashMap<>();
    /**
     * Per profile, the number after the newest stored generation, here or not: a build of this server's numbered
     * after the ones it served only would take a number another server's build (not here yet) holds, each time.
     */
    private final Map<String, Integer> storedNext = new HashMap<>();

    /**
     * @param store       where generations are kept across restarts; empty: in memory only
     * @param assignments consulted before pruning: an assigned generation is never pruned
     */
    public Generations(Optional<GenerationStore> store, Optional<Assignments> assignments, GenerationPolicy policy) {
        this.store = store;
        this.assignments = assignments;
        this.policy = policy;
    }

    /** Generations kept in memory only, one per profile, no menu: a catalog of fixed specs. */
    public static Generations fixed(Map<String, BootSpec> specs, Instant at) {
        Generations g = new Generations(Optional.empty(), Optional.empty(), new GenerationPolicy(1,
                Optional.empty(), 0));
        specs.forEach((profile, spec) -> g.addBuild(profile, spec, "", at, "", at));
        return g;
    }

    public GenerationPolicy policy() {
        return policy;
    }

    /** Parameters a profile adds after its image's own (profiles.yaml's params), applied when served. */
    public synchronized void extraArgs(String profile, List<String> args) {
        extraArgs.put(profile, List.copyOf(args));
        publish(current);
    }

    /**
     * Takes the profile's generations from the store (at start), those whose artifacts {@code usable} accepts;
     * returns how many were dropped as unusable.
     */
    public synchronized int load(String profile, Predicate<BootSpec> usable) {
        this.usable.put(profile, usable);
        Optional<ProfileGenerations> stored = store.flatMap(s -> s.generations(profile));
        if (stored.isEmpty()) {
            return 0;
        }
        List<Generation> ok = stored.get().newestFirst().stream().filter(g -> usable.test(g.spec())).toList();
        noteStored(profile, stored.get(), usable);
        int dropped = stored.get().newestFirst().size() - ok.size();
        if (!ok.isEmpty()) {
            change(profile, new ProfileGenerations(profile, ok, stored.get().pinned()));
        }
        return dropped;
    }

    /**
     * Takes in what other servers sharing the store changed since: a generation one of them added (its build, which
     * this server imports too) or pruned, a rollback made through it. Only generations whose artifacts are here
     * ({@link #load}'s test). Returns whether the profile's generations or its default changed.
     */
    public synchronized boolean refresh(String profile) {
        Optional<ProfileGenerations> stored = store.flatMap(s -> s.generations(profile));
        if (stored.isEmpty()) {
            return false;
        }
        Predicate<BootSpec> ok = usable.getOrDefault(profile, spec -> true);
        noteStored(profile, stored.get(), ok);
        List<Generation> here = stored.get().newestFirst().stream().filter(g -> ok.test(g.spec())).toList();
        if (here.isEmpty()) {
            return false;
        }
        ProfileGenerations before = current.get(profile);
        ProfileGenerations after = new ProfileGenerations(profile, here, stored.get().pinned());
        if (before != null && numbers(before).equals(numbers(after)) && before.pinned().equals(after.pinned())) {
            return false;
        }
        change(profile, after);
        return true;
    }

    private void noteStored(String profile, ProfileGenerations stored, Predicate<BootSpec> usable) {
        storedNext.put(profile, stored.nextNumber());
        List<BootSpec> missing = stored.newestFirst().stream().map(Generation::spec).filter(usable.negate()).toList();
        if (missing.isEmpty()) {
            notHere.remove(profile);
        } else {
            notHere.put(profile, missing);
        }
    }

    /**
     * The specs of stored generations this server does not serve, because their artifacts are not here (a build
     * another server sharing the store imported), as of the last {@link #load} or {@link #refresh}.
     */
    public synchronized List<BootSpec> notHere() {
        return notHere.values().stream().flatMap(List::stream).toList();
    }

    /** {@link #refresh} of every profile this server serves; the profiles whose generations changed. */
    public List<String> refreshAll() {
        List<String> changed = new ArrayList<>();
        for (String profile : new java.util.TreeSet<>(current.keySet())) {
            if (refresh(profile)) {
                changed.add(profile);
            }
        }
        return changed;
    }

    private static List<Integer> numbers(ProfileGenerations pg) {
        return pg.newestFirst().stream().map(Generation::number).toList();
    }

    /**
     * A build of the profile: its next generation and the default, unless it boots exactly what the newest does
     * (the same build again, a restart, or a build another server sharing the store recorded first) — then empty.
     * Older generations beyond the policy are pruned.
     */
    public synchronized Optional<Generation> addBuild(String profile, BootSpec spec, String version, Instant built,
                                                      String source, Instant now) {
        // Servers sharing a store see the same build and race to record it: the one that loses takes the winner's.
        for (int attempt = 1; ; attempt++) {
            refresh(profile);
            ProfileGenerations before = current.get(profile);
            if (before != null && before.newestIs(spec)) {
                return Optional.empty();
            }
            int number = Math.max(before == null ? 1 : before.nextNumber(), storedNext.getOrDefault(profile, 1));
            Generation g = new Generation(number, spec, version, built, now, source);
            if (store.map(s -> s.addGeneration(profile, g)).orElse(true)) {
                return Optional.of(added(profile, before, g, now));
            }
            if (attempt == 3) {
                throw new IllegalStateException("profile " + profile + ": generation " + g.number()
                        + " was taken by another server each time, three times");
            }
        }
    }

    private Generation added(String profile, ProfileGenerations before, Generation g, Instant now) {
        ProfileGenerations after = before == null ? ProfileGenerations.first(profile, g) : before.with(g);
        if (before != null && before.pinned().isPresent()) {
            store.ifPresent(s -> s.pinDefault(profile, OptionalInt.empty()));
        }
        change(profile, after);
        prune(profile, now);
        return g;
    }

    /** Drops what the policy says; returns the dropped generations. */
    public synchronized List<Generation> prune(String profile, Instant now) {
        ProfileGenerations pg = current.get(profile);
        if (pg == null) {
            return List.of();
        }
        List<Generation> drop = pg.prunable(policy, assignedGenerations(profile), now);
        if (drop.isEmpty()) {
            return drop;
        }
        store.ifPresent(s -> s.removeGenerations(profile, drop.stream().map(Generation::number).toList()));
        change(profile, pg.without(drop));
        return drop;
    }

    /** `pivot rollback PROFILE [--to N]`: the default for every machine of the profile, from their next boot. */
    public synchronized ProfileGenerations rollback(String profile, OptionalInt to) {
        ProfileGenerations pg = of(profile).orElseThrow(() -> new IllegalArgumentException("unknown profile '"
                + profile + "' (known: " + String.join(", ", new java.util.TreeSet<>(current.keySet())) + ")"));
        ProfileGenerations after = pg.rolledBack(to);
        store.ifPresent(s -> s.pinDefault(profile, after.pinned()));
        change(profile, after);
        return after;
    }

    private Set<Integer> assignedGenerations(String profile) {
        Set<Integer> out = new HashSet<>();
        // An unreadable store must not let an assigned generation go: prune nothing then.
        for (Assignments.Assignment a : assignments.map(Assignments::all).orElse(List.of())) {
            if (a.profile().equals(profile) && a.generation().isPresent()) {
                out.add(a.generation().getAsInt());
            }
        }
        return out;
    }

    public Optional<ProfileGenerations> of(String profile) {
        return Optional.ofNullable(current.get(profile));
    }

    public Map<String, ProfileGenerations> all() {
        return current;
    }

    public Set<String> profiles() {
        return current.keySet();
    }

    /** The spec as served: the generation's, with the profile's extra parameters. */
    public BootSpec served(String profile, Generation g) {
        List<String> more = extraArgs.getOrDefault(profile, List.of());
        return transport.apply(more.isEmpty() ? g.spec() : g.spec().withKernelArgs(more));
    }

    /** A change every served spec gets, after the profile's own parameters (where stage 1 attaches the root). */
    public synchronized void transport(java.util.function.UnaryOperator<BootSpec> change) {
        transport = change;
        publish(current);
    }

    /** Every generation's spec as served, so a download is known by its artifact alone. */
    public Collection<BootSpec> allSpecs() {
        return allSpecs;
    }

    private void change(String profile, ProfileGenerations pg) {
        Map<String, ProfileGenerations> next = new HashMap<>(current);
        next.put(profile, pg);
        publish(Map.copyOf(next));
    }

    private void publish(Map<String, ProfileGenerations> next) {
        List<BootSpec> specs = new ArrayList<>();
        next.forEach((profile, pg) -> pg.newestFirst().forEach(g -> specs.add(served(profile, g))));
        allSpecs = List.copyOf(specs);
        current = next;
    }
}
