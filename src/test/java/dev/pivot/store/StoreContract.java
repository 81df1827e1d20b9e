package dev.pivot.store;

import dev.pivot.history.BootSession;
import dev.pivot.boot.Firmware;
import dev.pivot.history.EventPipeline;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Machine;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** What every database behind the store must do; SQLite and PostgreSQL tests run these same checks. */
final class StoreContract {

    static final MacAddress A = MacAddress.parse("52:54:00:00:00:0a");
    static final MacAddress B = MacAddress.parse("52:54:00:00:00:0b");
    static final Instant T0 = Instant.parse("2026-11-25T10:00:00.123456Z");

    private StoreContract() {
    }

    static BootEvent at(double seconds, MacAddress mac, Step step, boolean failed, String detail, long bytes) {
        return new BootEvent(T0.plusNanos((long) (seconds * 1e9)), mac, step, failed, detail, bytes);
    }

    /** Two boots of A (the first failing in stage 1) and one of B, then a reopened store reads them back. */
    static void recordsSessionsAndMachines(JdbcStoreFactory factory) {
        try (JdbcStore store = factory.open()) {
            EventPipeline sessions = EventPipeline.over(store, 1024);
            sessions.emit(at(0, A, Step.DHCP, false, "offer 10.0.0.100 → undionly.kpxe", 0).withFirmware(Firmware.BIOS));
            sessions.emit(at(0.5, A, Step.TFTP, false, "undionly.kpxe", 70_000));
            sessions.emit(at(0.7, B, Step.DHCP, false, "offer 10.0.0.101 → ipxe.efi", 0).withFirmware(Firmware.EFI_X64));
            sessions.emit(at(2, A, Step.KERNEL, false, "bzImage", 12_000_000));
            sessions.emit(at(9, A, Step.NETWORK, true, "no address from DHCP on eth0 'quoted' ünïcode", 0));
            sessions.emit(at(30, A, Step.DHCP, false, "offer 10.0.0.100 → undionly.kpxe", 0));
            recorded(sessions);
            assertThat(store.label(A, "rack", "r1")).isTrue();
            assertThat(store.label(MacAddress.parse("52:54:00:00:00:ff"), "rack", "r1")).isFalse();
        }
        try (JdbcStore store = factory.open()) {
            List<BootSession> ofA = store.sessions(Optional.of(A), 10);
            assertThat(ofA).hasSize(2);
            BootSession failed = ofA.get(1);
            assertThat(failed.events()).extracting(BootEvent::step)
                    .containsExactly(Step.DHCP, Step.TFTP, Step.KERNEL, Step.NETWORK);
            assertThat(failed.failure()).get().satisfies(e -> {
                assertThat(e.detail()).isEqualTo("no address from DHCP on eth0 'quoted' ünïcode");
                assertThat(e.at()).isEqualTo(T0.plusSeconds(9));
            });
            assertThat(failed.events().get(1).bytes()).isEqualTo(70_000);
            assertThat(failed.events().getFirst().at()).isEqualTo(T0);
            assertThat(store.session(failed.id())).contains(failed);
            assertThat(store.sessions(Optional.empty(), 10)).extracting(BootSession::mac).containsExactly(A, B, A);
            assertThat(store.sessions(Optional.empty(), 1)).hasSize(1);
            assertThat(store.lastSessionId()).isEqualTo(3);

            // B was seen only in DHCP: a session, but no machine record (a DISCOVER flood of made-up MACs makes none).
            List<Machine> machines = store.machines();
            assertThat(machines).extracting(Machine::mac).containsExactly(A);
            Machine a = machines.getFirst();
            assertThat(a.firstSeen()).isEqualTo(T0);
            assertThat(a.lastSeen()).isEqualTo(T0.plusSeconds(30));
            assertThat(a.firmware()).contains(Firmware.BIOS);
            assertThat(a.labels()).containsEntry("rack", "r1");
            assertThat(store.machine(B)).isEmpty();

            // A restarted server continues A's open session and numbers new ones after the last.
            EventPipeline again = EventPipeline.over(store, 1024);
            again.emit(at(31, A, Step.TFTP, false, "undionly.kpxe", 70_000));
            again.emit(at(32, B, Step.STAGE2, false, "", 0));
            again.emit(at(33, B, Step.DHCP, false, "offer", 0));
            recorded(again);
            assertThat(store.session(3)).get().extracting(s -> s.events().size()).isEqualTo(2);
            assertThat(store.session(2)).get().extracting(s -> s.events().size()).isEqualTo(2);
            assertThat(store.session(4)).get().extracting(BootSession::mac).isEqualTo(B);
            // Past DHCP now: B's record starts at its first session, with the firmware its DHCP event showed.
            assertThat(store.machine(B)).get().satisfies(b -> {
                assertThat(b.firmware()).contains(Firmware.EFI_X64);
                assertThat(b.firstSeen()).isEqualTo(T0.plusNanos(700_000_000));
            });
        }
    }

    /** Assignments replace each other, survive reopening, and need no machine seen first. */
    static void keepsAssignments(JdbcStoreFactory factory) {
        MacAddress unseen = MacAddress.parse("52:54:00:00:00:99");
        try (JdbcStore store = factory.open()) {
            store.assign(new dev.pivot.boot.Assignments.Assignment(unseen, "rescue", true, T0));
            store.assign(new dev.pivot.boot.Assignments.Assignment(A, "demo", false, T0));
            store.assign(new dev.pivot.boot.Assignments.Assignment(A, "rescue", true, T0.plusSeconds(5)));
        }
        try (JdbcStore store = factory.open()) {
            assertThat(store.assignment(A)).contains(new dev.pivot.boot.Assignments.Assignment(A, "rescue", true,
                    T0.plusSeconds(5)));
            assertThat(store.assignment(unseen)).get().extracting(dev.pivot.boot.Assignments.Assignment::profile)
                    .isEqualTo("rescue");
            assertThat(store.unassign(A)).isTrue();
            assertThat(store.unassign(A)).isFalse();
            assertThat(store.assignment(A)).isEmpty();
        }
    }

    /** Waits until the pipeline committed what was emitted, and closes it. */
    /**
     * Generations (their specs byte for byte), a rollback's pin, pruning, generation assignments and what each
     * machine runs survive reopening the store.
     */
    static void keepsGenerations(JdbcStoreFactory factory) {
        dev.pivot.boot.Artifact kernel = new dev.pivot.boot.Artifact("a".repeat(64), 7_000_000, "bzImage");
        dev.pivot.boot.Artifact initrd = new dev.pivot.boot.Artifact("b".repeat(64), 1_000, "initrd");
        dev.pivot.boot.Artifact prelude = new dev.pivot.boot.Artifact("c".repeat(64), 2_000, "pivot.cpio.gz");
        dev.pivot.boot.Artifact root = new dev.pivot.boot.Artifact("d".repeat(64), 300_000_000, "nix-store.squashfs");
        dev.pivot.boot.BootSpec one = new dev.pivot.boot.BootSpec(kernel, List.of(initrd, prelude), root,
                "/nix/store/x-nixos-system-pc-24.11/init", List.of("loglevel=4", "console=ttyS0"), "/pivot/init");
        dev.pivot.boot.BootSpec two = one.withKernelArgs(List.of("quiet"));
        try (JdbcStore store = factory.open()) {
            assertThat(store.addGeneration("pc", new dev.pivot.boot.Generation(1, one, "24.11", T0, T0,
                    "/nix/store/one"))).isTrue();
            assertThat(store.addGeneration("pc", new dev.pivot.boot.Generation(1, two, "24.11", T0, T0,
                    "/nix/store/other"))).as("number 1 is taken: another server recorded it first").isFalse();
            store.addGeneration("pc", new dev.pivot.boot.Generation(2, two, "24.11", T0, T0.plusSeconds(60),
                    "/nix/store/two"));
            store.addGeneration("pc", new dev.pivot.boot.Generation(3, two, "25.05", T0, T0.plusSeconds(120),
                    "/nix/store/three"));
            store.removeGenerations("pc", List.of(2));
            store.pinDefault("pc", java.util.OptionalInt.of(1));
            store.assign(new dev.pivot.boot.Assignments.Assignment(A, "pc", false, T0, java.util.OptionalInt.of(3)));
            store.recordRunning(new dev.pivot.boot.GenerationStore.Running(B, "pc", 1, T0));
            store.recordRunning(new dev.pivot.boot.GenerationStore.Running(B, "pc", 3, T0.plusSeconds(1)));
        }
        try (JdbcStore store = factory.open()) {
            dev.pivot.boot.ProfileGenerations pc = store.generations("pc").orElseThrow();
            assertThat(pc.newestFirst()).extracting(dev.pivot.boot.Generation::number).containsExactly(3, 1);
            assertThat(pc.number(1).orElseThrow().spec()).isEqualTo(one);
            assertThat(pc.number(3).orElseThrow().spec()).isEqualTo(two);
            assertThat(pc.number(3).orElseThrow().version()).isEqualTo("25.05");
            assertThat(pc.number(3).orElseThrow().imported()).isEqualTo(T0.plusSeconds(120));
            assertThat(pc.defaultGeneration().number()).isEqualTo(1);
            assertThat(store.generations("other")).isEmpty();
            // (the same database may hold other contracts' assignments)
            assertThat(store.all()).filteredOn(a -> a.mac().equals(A)).singleElement().satisfies(a -> {
                assertThat(a.mac()).isEqualTo(A);
                assertThat(a.generation()).hasValue(3);
            });
            assertThat(store.running()).containsKey(B);
            assertThat(store.running().get(B).generation()).isEqualTo(3);
            store.pinDefault("pc", java.util.OptionalInt.empty());
            assertThat(store.generations("pc").orElseThrow().defaultGeneration().number()).isEqualTo(3);
        }
    }

    /** The first server's boot key is every server's: a second proposal gets the first, and so does a reopening. */
    static void sharesOneBootKey(JdbcStoreFactory factory) {
        byte[] first = new byte[32];
        byte[] second = new byte[32];
        java.util.Arrays.fill(first, (byte) 1);
        java.util.Arrays.fill(second, (byte) 2);
        try (JdbcStore one = factory.open(); JdbcStore other = factory.open()) {
            assertThat(one.sharedBootKey(first, T0)).isEqualTo(first);
            assertThat(other.sharedBootKey(second, T0)).as("the key stored first").isEqualTo(first);
        }
        try (JdbcStore store = factory.open()) {
            assertThat(store.sharedBootKey(second, T0)).isEqualTo(first);
        }
    }

    static void recorded(EventPipeline pipeline) {
        try {
            assertThat(pipeline.flush(java.time.Duration.ofSeconds(10))).as("events recorded").isTrue();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
        pipeline.close();
    }

    @FunctionalInterface
    interface JdbcStoreFactory {
        JdbcStore open();
    }
}
