package dev.pivot.boot;


import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * machine → profile → spec: an operator's assignment first, then the group listing the machine's MAC, then the
 * most specific group selecting it by firmware and labels (ties: the first in the file), then the default profile.
 * A one-time assignment is dropped once the machine reaches stage 2 with it ({@link #onEvent}).
 */
public final class ProfileCatalog implements BootCatalog {

    /** Which profile a machine boots and why ("assigned", "assigned once", "group lab", "default"). */
    public record Choice(String profile, String because) {
    }

    private final Map<String, BootSpec> specs;
    private final Map<MacAddress, String> groupProfile;
    private final Map<MacAddress, String> groupName;
    private final Optional<String> defaultProfile;
    private final Assignments assignments;
    private final List<GroupSelector> selectors;
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
        this.selectors = List.copyOf(selectors);
        this.machines = machines;
        if (!this.selectors.isEmpty() && machines == null) {
            throw new IllegalArgumentException("groups that select by firmware or labels need the machine records");
        }
        this.specs = Map.copyOf(specs);
        this.groupProfile = groupOf.entrySet().stream()
                .collect(java.util.stream.Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> e.getValue().profile()));
        this.groupName = groupOf.entrySet().stream()
                .collect(java.util.stream.Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> e.getValue().because()));
        this.defaultProfile = defaultProfile;
        this.assignments = assignments;
        groupProfile.values().forEach(this::requireKnown);
        this.selectors.forEach(g -> requireKnown(g.profile()));
        defaultProfile.ifPresent(this::requireKnown);
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ProfileCatalog.class);
    private volatile long unreadableSince;

    public Set<String> profiles() {
        return specs.keySet();
    }

    @Override
    public java.util.Collection<BootSpec> allSpecs() {
        return specs.values();
    }

    public boolean has(String profile) {
        return specs.containsKey(profile);
    }

    public Optional<Choice> choice(MacAddress mac) {
        Optional<Assignments.Assignment> assigned = readOrNothing(() -> assignments.assignment(mac))
                .filter(a -> specs.containsKey(a.profile()));
        if (assigned.isPresent()) {
            return Optional.of(new Choice(assigned.get().profile(), assigned.get().once() ? "assigned once" : "assigned"));
        }
        String group = groupProfile.get(mac);
        if (group != null) {
            return Optional.of(new Choice(group, "group " + groupName.get(mac)));
        }
        Optional<Choice> selected = selected(mac);
        if (selected.isPresent()) {
            return selected;
        }
        return defaultProfile.map(p -> new Choice(p, "default"));
    }

    private Optional<Choice> selected(MacAddress mac) {
        if (selectors.isEmpty()) {
            return Optional.empty();
        }
        Optional<Machine> machine = readOrNothing(() -> machines.machine(mac));
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
        return choice(mac).map(c -> specs.get(c.profile()));
    }

    /**
     * A machine that reached stage 2 has used up its one-time assignment. A kernel served alone never reports a
     * stage 2: its boot is used up once the machine has its last initrd whole (or, without initrds, its kernel),
     * the last step Pivot sees of it.
     */
    public void onEvent(BootEvent event) {
        if (event.failed() || (event.step() != Step.STAGE2 && event.step() != Step.INITRD
                && event.step() != Step.KERNEL)) {
            return;
        }
        // Only when some profile is a kernel alone do its fetches need the assignment read from the store.
        if (event.step() != Step.STAGE2 && specs.values().stream().allMatch(spec -> spec.rootBoot().isPresent())) {
            return;
        }
        Optional<Assignments.Assignment> once = assignments.assignment(event.mac()).filter(Assignments.Assignment::once);
        if (once.isEmpty()) {
            return;
        }
        boolean used = event.step() == Step.STAGE2
                || Optional.ofNullable(specs.get(once.get().profile())).filter(spec -> lastFetch(spec, event)).isPresent();
        if (used) {
            assignments.unassign(event.mac());
        }
    }

    /** Whether {@code event} is the last file of a kernel served alone: its last initrd, else its kernel. */
    private static boolean lastFetch(BootSpec spec, BootEvent event) {
        if (spec.rootBoot().isPresent()) {
            return false;
        }
        Step step = spec.initrds().isEmpty() ? Step.KERNEL : Step.INITRD;
        String name = spec.initrds().isEmpty() ? spec.kernel().name() : spec.initrds().getLast().name();
        return event.step() == step && event.file().filter(name::equals).isPresent();
    }

    private void requireKnown(String profile) {
        if (!specs.containsKey(profile)) {
            throw new IllegalArgumentException("unknown profile '" + profile + "' (known: "
                    + String.join(", ", new java.util.TreeSet<>(specs.keySet())) + ")");
        }
    }
}
