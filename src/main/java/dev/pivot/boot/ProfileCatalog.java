package dev.pivot.boot;


import java.util.List;
import java.util.Map;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * machine → profile → spec: an operator's assignment first, then the group listing the machine's MAC, then the
 * most specific group selecting it by firmware and labels (ties: the first in the file), then the default profile.
 * A one-time assignment is dropped once the machine reaches stage 2 with it ({@link #onEvent}).
 */
public final class ProfileCatalog implements BootCatalog {

    /**
     * Which profile a machine boots and why ("assigned", "assigned once", "group lab", "default").
     *
     * @param generation the profile's generation an assignment names (`PROFILE@N`); empty: the profile's default
     */
    public record Choice(String profile, String because, java.util.OptionalInt generation) {
        public Choice(String profile, String because) {
            this(profile, because, java.util.OptionalInt.empty());
        }
    }

    /**
     * A machine's generation against its profile's: {@code running} is what its last successful boot ran (0 when
     * unknown), {@code next} what its next boot gets; behind when it runs another generation of the same profile.
     */
    public record GenerationStatus(String profile, int running, String runningProfile, int next) {
        public boolean behind() {
            return running > 0 && runningProfile.equals(profile) && running != next;
        }
    }

    /** Which generation a machine was last handed, until its boot reaches stage 2; bounded. */
    /** @param at when the machine was handed it (its script, or its boot plan) */
    private record Pending(String profile, int generation, Instant at) {
    }

    private static final int MAX_PENDING = 65_536;

    private final Generations generations;
    private final Optional<GenerationStore> generationStore;
    private final java.util.concurrent.ConcurrentHashMap<MacAddress, Pending> pending =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Which machine boots which profile without an assignment: replaced whole when profiles.yaml changes. */
    private record Routing(Map<MacAddress, String> groupProfile, Map<MacAddress, String> groupName,
                           List<GroupSelector> selectors, Optional<String> defaultProfile,
                           Map<String, ProfileLoader> loaders) {
    }

    private volatile Routing routing;
    /**
     * The firmware DHCP showed for machines that may have no machine record yet (a record is made once a machine
     * gets past DHCP, after its first script): a firmware selector matches on its first boot too. Bounded: the
     * least recently seen go first, so a DISCOVER flood of made-up MACs cannot grow it.
     */
    private final java.util.LinkedHashMap<MacAddress, Firmware> firmwareSeen =
            new java.util.LinkedHashMap<>(16, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<MacAddress, Firmware> eldest) {
                    return size() > FIRMWARE_SEEN;
                }
            };
    private static final int FIRMWARE_SEEN = 8192;
    private final Assignments assignments;
    private final MachineRepository machines;

    /**
     * @param specs          each profile's spec, by profile name
     * @param groupOf        machine → its group's name and profile
     * @param defaultProfile for machines neither assigned nor in a group; empty: they are not booted
     */
    public ProfileCatalog(Map<String, BootSpec> specs, Map<MacAddress, Choice> groupOf, Optional<String> defaultProfile,
                          Assignments assignments) {
        this(specs, groupOf, List.of(), null, defaultProfile, assignments);
    }

    /**
     * @param selectors groups that select by firmware and labels, in file order
     * @param machines  what is known of each machine (firmware, labels), for the selectors
     */
    public ProfileCatalog(Map<String, BootSpec> specs, Map<MacAddress, Choice> groupOf, List<GroupSelector> selectors,
                          MachineRepository machines, Optional<String> defaultProfile, Assignments assignments) {
        this(Generations.fixed(specs, java.time.Instant.now()), Optional.empty(), groupOf, selectors, machines,
                defaultProfile, assignments);
    }

    /**
     * @param generations every profile's generations (each profile has at least one)
     * @param store       where each machine's running generation is recorded; empty: not recorded
     */
    public ProfileCatalog(Generations generations, Optional<GenerationStore> store, Map<MacAddress, Choice> groupOf,
                          List<GroupSelector> selectors, MachineRepository machines, Optional<String> defaultProfile,
                          Assignments assignments) {
        this.generations = generations;
        this.generationStore = store;
        this.machines = machines;
        this.assignments = assignments;
        reroute(groupOf, selectors, defaultProfile);
    }

    /**
     * New groups and default (profiles.yaml changed): checked whole, then swapped in at once, so a machine asking
     * meanwhile gets the old routing or the new one, never half of each.
     */
    public void reroute(Map<MacAddress, Choice> groupOf, List<GroupSelector> selectors, Optional<String> defaultProfile) {
        reroute(groupOf, selectors, defaultProfile, Map.of());
    }

    /** @param loaders the first loader each profile that chooses one gives its UEFI PXE machines, by profile */
    public void reroute(Map<MacAddress, Choice> groupOf, List<GroupSelector> selectors, Optional<String> defaultProfile,
                        Map<String, ProfileLoader> loaders) {
        List<GroupSelector> bySelector = List.copyOf(selectors);
        if (!bySelector.isEmpty() && machines == null) {
            throw new IllegalArgumentException("groups that select by firmware or labels need the machine records");
        }
        Routing next = new Routing(groupOf.entrySet().stream()
                .collect(java.util.stream.Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> e.getValue().profile())),
                groupOf.entrySet().stream().collect(java.util.stream.Collectors.toUnmodifiableMap(Map.Entry::getKey,
                        e -> e.getValue().because())), bySelector, defaultProfile, Map.copyOf(loaders));
        next.groupProfile().values().forEach(this::requireKnown);
        bySelector.forEach(g -> requireKnown(g.profile()));
        defaultProfile.ifPresent(this::requireKnown);
        next.loaders().keySet().forEach(this::requireKnown);
        routing = next;
        routingVersion.incrementAndGet();
    }

    /** Goes up with every {@link #reroute}: what was decided from the routing before is out of date. */
    public long routingVersion() {
        return routingVersion.get();
    }

    /**
     * The first loader the machine's profile chooses for its UEFI PXE firmware; empty when it chooses none (or the
     * machine boots nothing). Asks nothing of the store unless some profile chooses.
     */
    public Optional<ProfileLoader> loader(MacAddress mac) {
        return loader(mac, this::choice);
    }

    /**
     * The loader as far as it is known without reading the store: MAC groups, selectors matched on the firmware
     * seen in this server's events, the default. What a protocol thread answers when the store is too slow to wait
     * for (an assignment or a label then takes effect at the next answer).
     */
    public Optional<ProfileLoader> loaderWithoutStore(MacAddress mac) {
        return loader(mac, this::choiceWithoutStore);
    }

    /** The loader of the profile {@code choice} picks; the choice is not made at all when no profile chooses one. */
    private Optional<ProfileLoader> loader(MacAddress mac,
                                           java.util.function.Function<MacAddress, Optional<Choice>> choice) {
        Map<String, ProfileLoader> loaders = routing.loaders();
        return loaders.isEmpty() ? Optional.empty() : choice.apply(mac).map(c -> loaders.get(c.profile()));
    }

    /** {@link #choice} as far as it is known without reading the store (no assignments, no stored labels). */
    public Optional<Choice> choiceWithoutStore(MacAddress mac) {
        return routedChoice(mac, false);
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ProfileCatalog.class);
    private final java.util.concurrent.atomic.AtomicLong routingVersion = new java.util.concurrent.atomic.AtomicLong();
    private volatile long unreadableSince;

    public Set<String> profiles() {
        return generations.profiles();
    }

    public Generations generations() {
        return generations;
    }

    @Override
    public java.util.Collection<BootSpec> allSpecs() {
        return generations.allSpecs();
    }

    public boolean has(String profile) {
        return generations.of(profile).isPresent();
    }

    public Optional<Choice> choice(MacAddress mac) {
        Optional<Assignments.Assignment> assigned = readOrNothing(() -> assignments.assignment(mac))
                .filter(a -> has(a.profile()));
        if (assigned.isPresent()) {
            return Optional.of(new Choice(assigned.get().profile(), assigned.get().once() ? "assigned once" : "assigned",
                    assigned.get().generation()));
        }
        return routedChoice(mac, true);
    }

    /** The choice of MAC groups, selectors and the default; {@code readMachine}: selectors may read the store. */
    private Optional<Choice> routedChoice(MacAddress mac, boolean readMachine) {
        Routing r = routing;
        String group = r.groupProfile().get(mac);
        if (group != null) {
            return Optional.of(new Choice(group, "group " + r.groupName().get(mac)));
        }
        Optional<Choice> selected = selected(mac, r.selectors(), readMachine);
        if (selected.isPresent()) {
            return selected;
        }
        return r.defaultProfile().map(p -> new Choice(p, "default"));
    }

    private Optional<Choice> selected(MacAddress mac, List<GroupSelector> selectors, boolean readMachine) {
        if (selectors.isEmpty()) {
            return Optional.empty();
        }
        Optional<Machine> stored = readMachine ? readOrNothing(() -> machines.machine(mac)) : Optional.empty();
        Optional<Machine> machine = stored.or(() -> {
            Firmware seen;
            synchronized (firmwareSeen) {
                seen = firmwareSeen.get(mac);
            }
            java.time.Instant now = java.time.Instant.now();
            return Optional.ofNullable(seen).map(f -> new Machine(mac, now, now, Optional.of(f), Map.of()));
        });
        if (machine.isEmpty()) {
            return Optional.empty();
        }
        GroupSelector best = null;
        int bestScore = -1;
        for (GroupSelector g : selectors) {
            int score = g.specificity(machine.get());
            if (score > bestScore) {
                best = g;
                bestScore = score;
            }
        }
        return best == null ? Optional.empty() : Optional.of(new Choice(best.profile(), "group " + best.group()));
    }

    /**
     * A store that cannot be read (a database restarting, a full disk) must not stop machines from booting: they
     * get what their MAC group or the default gives them meanwhile, and the log says so once a minute.
     */
    private <T> Optional<T> readOrNothing(java.util.function.Supplier<Optional<T>> read) {
        try {
            return read.get();
        } catch (RuntimeException e) {
            long now = System.nanoTime();
            long last = unreadableSince;
            if (last == 0 || now - last > java.util.concurrent.TimeUnit.MINUTES.toNanos(1)) {
                unreadableSince = now;
                log.warn("assignments and machines unreadable, booting by MAC group or default meanwhile: {}",
                        e.getMessage());
            }
            return Optional.empty();
        }
    }

    @Override
    public Optional<BootSpec> specFor(MacAddress mac) {
        return choice(mac).flatMap(c -> generations.of(c.profile())
                .map(pg -> generations.served(c.profile(), nextGeneration(pg, c))));
    }

    /**
     * The machine's boot: the generation it asked for (its menu's choice) when the profile still has it, else its
     * assigned generation, else the profile's default; with the profile's generations as the menu.
     */
    @Override
    public Optional<BootPlan> planFor(MacAddress mac, java.util.OptionalInt wanted) {
        Optional<Choice> choice = choice(mac);
        if (choice.isEmpty()) {
            return Optional.empty();
        }
        Optional<ProfileGenerations> pg = generations.of(choice.get().profile());
        if (pg.isEmpty()) {
            return Optional.empty();
        }
        Generation dflt = nextGeneration(pg.get(), choice.get());
        Generation boots = wanted.isPresent() ? pg.get().number(wanted.getAsInt()).orElse(dflt) : dflt;
        List<BootPlan.MenuEntry> menu = wanted.isPresent() ? List.of() : pg.get().newestFirst().stream()
                .map(g -> new BootPlan.MenuEntry(g.number(), g.version(), g.built(), g.number() == dflt.number()))
                .toList();
        if (pending.size() >= MAX_PENDING) {
            pending.clear(); // machines that never reached stage 2; what they run stays unknown
        }
        pending.put(mac, new Pending(choice.get().profile(), boots.number(), Instant.now()));
        return Optional.of(new BootPlan(generations.served(choice.get().profile(), boots), choice.get().profile(),
                boots.number(), menu, generations.policy().menuTimeoutSeconds()));
    }

    private static Generation nextGeneration(ProfileGenerations pg, Choice c) {
        return c.generation().isPresent() ? pg.number(c.generation().getAsInt()).orElse(pg.defaultGeneration())
                : pg.defaultGeneration();
    }

    /** The machine's running generation against what its next boot gets; empty when it boots nothing. */
    public Optional<GenerationStatus> status(MacAddress mac, Optional<GenerationStore.Running> running) {
        return choice(mac).flatMap(c -> generations.of(c.profile()).map(pg -> new GenerationStatus(c.profile(),
                running.map(GenerationStore.Running::generation).orElse(0),
                running.map(GenerationStore.Running::profile).orElse(""), nextGeneration(pg, c).number())));
    }

    /** Each machine's running generation, as recorded; empty when not recorded (or unreadable). */
    public Map<MacAddress, GenerationStore.Running> running() {
        return generationStore.isEmpty() ? Map.of()
                : readOrNothing(() -> Optional.of(generationStore.get().running())).orElse(Map.of());
    }

    /** Machines whose last successful boot ran another generation of their profile than their next boot gets. */
    public long machinesBehind() {
        if (generationStore.isEmpty()) {
            return 0;
        }
        return running().values().stream()
                .filter(r -> status(r.mac(), Optional.of(r)).map(GenerationStatus::behind).orElse(false)).count();
    }

    /**
     * A machine that reached stage 2 runs the generation it was last handed (recorded), and has used up its
     * one-time assignment. A kernel served alone never reports a stage 2: its boot is used up once the machine has
     * its last initrd whole (or, without initrds, its kernel), the last step Pivot sees of it.
     */
    public void onEvent(BootEvent event) {
        onEvent(event, event.at());
    }

    /**
     * @param bootStarted when the boot this event belongs to began (its session's first event). A one-time
     *                    assignment is used up by a boot that was handed its plan after the assignment was made
     *                    (or, when another server wrote its script, that began after it), so a late report of an
     *                    earlier boot (a stage 2 arriving after the operator assigned again) leaves it alone
     */
    public void onEvent(BootEvent event, Instant bootStarted) {
        if (event.firmware().isPresent() && !routing.selectors().isEmpty()) {
            synchronized (firmwareSeen) {
                firmwareSeen.put(event.mac(), event.firmware().get());
            }
        }
        if (event.failed()) {
            return;
        }
        Optional<Instant> handedAt = Optional.ofNullable(pending.get(event.mac())).map(Pending::at);
        if (event.step() == Step.STAGE2) {
            recordRunning(event);
            if (assignments.assignment(event.mac()).filter(a -> usedBy(a, handedAt, bootStarted)).isPresent()) {
                assignments.unassign(event.mac());
            }
            return;
        }
        if (event.step() != Step.INITRD && event.step() != Step.KERNEL) {
            return;
        }
        // Only when some profile is a kernel alone do its fetches need the assignment read from the store.
        if (generations.allSpecs().stream().allMatch(spec -> spec.rootBoot().isPresent())) {
            return;
        }
        Optional<Assignments.Assignment> once = assignments.assignment(event.mac())
                .filter(a -> usedBy(a, handedAt, bootStarted));
        // A root boot's stage 2 may report (an image can; the demo's does): only a kernel alone is used up here.
        if (once.isPresent() && generations.of(once.get().profile()).map(pg -> lastFetch(
                generations.served(once.get().profile(), pg.defaultGeneration()), event, root -> true))
                .orElse(false)) {
            assignments.unassign(event.mac());
        }
    }

    /**
     * Whether this boot used the one-time assignment: it was handed its plan (by this server) after the assignment
     * was made, or, when this server handed it nothing (another server wrote its script), it began after that.
     */
    private static boolean usedBy(Assignments.Assignment a, Optional<Instant> handedAt, Instant bootStarted) {
        return a.once() && (handedAt.isPresent() ? !handedAt.get().isBefore(a.at()) : !a.at().isAfter(bootStarted));
    }

    private void recordRunning(BootEvent event) {
        Pending handed = pending.remove(event.mac());
        if (handed != null && generationStore.isPresent()) {
            try {
                generationStore.get().recordRunning(new GenerationStore.Running(event.mac(), handed.profile(),
                        handed.generation(), event.at()));
            } catch (RuntimeException e) {
                log.warn("cannot record that {} runs generation {} of {}: {}", event.mac(), handed.generation(),
                        handed.profile(), e.getMessage());
            }
        }
    }

    /**
     * Whether {@code event} ends its machine's boot as far as Pivot can see: the last file of a boot that no stage 1
     * of Pivot's follows (a kernel served alone; native mode, whose image's own stage 1 reports nothing), so the
     * boot is not stalled there.
     *
     * @param reportingStage1 the rdinit of Pivot's stage 1, the one stage 1 that reports after the files
     */
    public boolean endsBoot(BootEvent event, String reportingStage1) {
        return !event.failed() && (event.step() == Step.INITRD || event.step() == Step.KERNEL)
                && specFor(event.mac()).filter(spec -> lastFetch(spec, event,
                        root -> root.stage1Init().equals(reportingStage1))).isPresent();
    }

    /**
     * Whether {@code event} is the last file of a boot that nothing follows: its last initrd, else its kernel; never
     * for a root boot that {@code followed} says sends more.
     */
    private static boolean lastFetch(BootSpec spec, BootEvent event,
                                     java.util.function.Predicate<BootSpec.RootBoot> followed) {
        if (spec.rootBoot().filter(followed).isPresent()) {
            return false;
        }
        Step step = spec.initrds().isEmpty() ? Step.KERNEL : Step.INITRD;
        String name = spec.initrds().isEmpty() ? spec.kernel().name() : spec.initrds().getLast().name();
        return event.step() == step && event.file().filter(name::equals).isPresent();
    }

    private void requireKnown(String profile) {
        if (!has(profile)) {
            throw new IllegalArgumentException("unknown profile '" + profile + "' (known: "
                    + String.join(", ", new java.util.TreeSet<>(profiles())) + ")");
        }
    }
}
