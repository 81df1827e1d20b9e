package dev.pivot.api;

import dev.pivot.history.BootSession;
import dev.pivot.boot.Machine;
import dev.pivot.boot.BootEvent;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The JSON shapes of the REST API (docs/api.md). Times are ISO-8601 UTC; durations are seconds. */
final class Views {

    private Views() {
    }

    /** @param firmware null until a first loader revealed it; @param lastBoot null when no session is recorded */
    record MachineView(String mac, String firstSeen, String lastSeen, String firmware, Map<String, String> labels,
                       SessionSummary lastBoot, ProfileChoice profile, GenerationView generation) {
    }

    /**
     * @param running       the generation its last successful boot ran; null when not known
     * @param next          what its next boot gets (its assignment's, else the profile's default)
     * @param rebootNeeded  it runs another generation of its profile than its next boot gets
     */
    record GenerationView(String profile, Integer running, String runningProfile, int next, boolean rebootNeeded) {
    }

    /** A profile's generations, newest first. */
    record ProfileGenerationsView(String profile, int defaultGeneration, boolean rolledBack,
                                  List<GenerationEntryView> generations) {
    }

    /** @param machines how many machines run it now (their last successful boot) */
    record GenerationEntryView(int number, String version, String built, String imported, String source,
                               boolean isDefault, boolean newest, long machines) {
    }

    static ProfileGenerationsView generations(dev.pivot.boot.ProfileGenerations pg,
                                              java.util.Collection<dev.pivot.boot.GenerationStore.Running> running) {
        int dflt = pg.defaultGeneration().number();
        return new ProfileGenerationsView(pg.profile(), dflt, pg.pinned().isPresent(), pg.newestFirst().stream()
                .map(g -> new GenerationEntryView(g.number(), g.version(), iso(g.built()), iso(g.imported()),
                        g.source(), g.number() == dflt, g.number() == pg.newest().number(),
                        running.stream().filter(r -> r.profile().equals(pg.profile())
                                && r.generation() == g.number()).count()))
                .toList());
    }

    /** The profile the machine boots next, and why (assigned, assigned once, group NAME, default). */
    record ProfileChoice(String name, String because) {
    }

    /** @param generation the assigned generation, null: the profile's default */
    record AssignmentView(String mac, String profile, boolean once, String assignedAt, Integer generation) {
    }

    /**
     * @param state   booting, handed_over (Pivot's part done: the image's init runs, no stage-2 report yet),
     *                succeeded (stage 2 reached), failed, or stalled (no next event within the step's deadline)
     * @param step    the latest step reached
     * @param failure the first failure's step and reason, null when none
     */
    record SessionSummary(long id, String started, String state, String step, Failure failure, double seconds,
                          String server) {
    }

    record Failure(String step, String reason) {
    }

    /** @param server the server that recorded the session when servers share a store, else null */
    record SessionView(long id, String mac, String started, String state, String step, Failure failure,
                       double seconds, List<EventView> events, String server) {
    }

    /** @param sinceStart seconds since the session's first event */
    /** @param firmware, address, file, dhcp the event's typed facts, null where it has none */
    record EventView(String at, double sinceStart, String step, boolean failed, String detail, long bytes,
                     String firmware, String address, String file, String dhcp) {
    }

    /**
     * One live event on the SSE stream, with the session it joined and that session's state after it.
     *
     * @param server the server that recorded the session when servers share a store, else null
     */
    record LiveEvent(long session, String mac, String at, double sinceStart, String step, boolean failed,
                     String detail, long bytes, String state, String server) {
    }

    static MachineView machine(Machine m, Optional<BootSession> last, Optional<ProfileChoice> profile,
                               Optional<dev.pivot.boot.ProfileCatalog.GenerationStatus> generation) {
        return new MachineView(m.mac().toString(), iso(m.firstSeen()), iso(m.lastSeen()), m.firmware().map(dev.pivot.boot.Firmware::wire).orElse(null),
                m.labels(), last.map(Views::summary).orElse(null), profile.orElse(null),
                generation.map(g -> new GenerationView(g.profile(), g.running() > 0 ? g.running() : null,
                        g.running() > 0 ? g.runningProfile() : null, g.next(), g.behind())).orElse(null));
    }

    static SessionSummary summary(BootSession s) {
        return new SessionSummary(s.id(), iso(s.events().getFirst().at()), state(s), s.events().getLast().step().wire(),
                failure(s), seconds(s.events().getFirst().at(), s.events().getLast().at()), s.server().orElse(null));
    }

    static SessionView session(BootSession s) {
        Instant start = s.events().getFirst().at();
        return new SessionView(s.id(), s.mac().toString(), iso(start), state(s), s.events().getLast().step().wire(),
                failure(s), seconds(start, s.events().getLast().at()),
                s.events().stream().map(e -> event(start, e)).toList(), s.server().orElse(null));
    }

    static EventView event(Instant start, BootEvent e) {
        return new EventView(iso(e.at()), seconds(start, e.at()), e.step().wire(), e.failed(), e.detail(), e.bytes(),
                e.firmware().map(dev.pivot.boot.Firmware::wire).orElse(null), e.address().orElse(null),
                e.file().orElse(null), e.dhcp().map(dev.pivot.boot.BootEvent.DhcpAnswer::wire).orElse(null));
    }

    static LiveEvent live(BootSession s, BootEvent e) {
        return new LiveEvent(s.id(), e.mac().toString(), iso(e.at()), seconds(s.events().getFirst().at(), e.at()),
                e.step().wire(), e.failed(), e.detail(), e.bytes(), state(s), s.server().orElse(null));
    }

    static String state(BootSession s) {
        return s.failure().isPresent() ? "failed" : s.reachedStage2() ? "succeeded" : s.stalled() ? "stalled"
                : s.handedOver() ? "handed_over" : "booting";
    }

    private static Failure failure(BootSession s) {
        return s.failure().map(f -> new Failure(f.step().wire(), f.detail())).orElse(null);
    }

    static String iso(Instant t) {
        return t.toString();
    }

    private static double seconds(Instant from, Instant to) {
        return Duration.between(from, to).toMillis() / 1000.0;
    }
}
