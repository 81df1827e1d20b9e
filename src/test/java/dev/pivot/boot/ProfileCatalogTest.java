package dev.pivot.boot;

import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProfileCatalogTest {

    static final MacAddress IN_LAB = MacAddress.parse("52:54:00:00:00:01");
    static final MacAddress OTHER = MacAddress.parse("52:54:00:00:00:02");
    /** Pivot's stage 1 (Stage1Contract.RDINIT: this package imports nothing of Pivot's). */
    static final String RDINIT = "/pivot/init";

    static BootSpec spec(String name) {
        Artifact a = new Artifact((name.equals("d") ? "d" : "e").repeat(64), 1, name);
        return new BootSpec(a, List.of(a), a, "/init-" + name, List.of(), "/pivot/init");
    }

    static class MemoryAssignments implements Assignments {
        final Map<MacAddress, Assignment> map = new HashMap<>();

        @Override
        public Optional<Assignment> assignment(MacAddress mac) {
            return Optional.ofNullable(map.get(mac));
        }

        @Override
        public List<Assignment> all() {
            return List.copyOf(map.values());
        }

        @Override
        public void assign(Assignment a) {
            map.put(a.mac(), a);
        }

        @Override
        public boolean unassign(MacAddress mac) {
            return map.remove(mac) != null;
        }
    }

    final BootSpec demo = spec("d");
    final BootSpec rescue = spec("r");
    final MemoryAssignments assignments = new MemoryAssignments();
    final ProfileCatalog catalog = new ProfileCatalog(Map.of("demo", demo, "rescue", rescue),
            Map.of(IN_LAB, new ProfileCatalog.Choice("demo", "lab")), Optional.of("rescue"), assignments);

    @Test
    void assignmentOutranksGroupOutranksDefault() {
        assertThat(catalog.specFor(IN_LAB)).contains(demo);
        assertThat(catalog.choice(IN_LAB)).contains(new ProfileCatalog.Choice("demo", "group lab"));
        assertThat(catalog.specFor(OTHER)).contains(rescue);
        assertThat(catalog.choice(OTHER)).contains(new ProfileCatalog.Choice("rescue", "default"));
        assignments.assign(new Assignments.Assignment(IN_LAB, "rescue", false, Instant.now()));
        assertThat(catalog.specFor(IN_LAB)).contains(rescue);
        assertThat(catalog.choice(IN_LAB)).contains(new ProfileCatalog.Choice("rescue", "assigned"));
    }

    @Test
    void aMachineGetsTheLoaderItsProfileChoosesThroughGroupDefaultAndAssignment() {
        assertThat(catalog.loader(IN_LAB)).isEmpty();
        catalog.reroute(Map.of(IN_LAB, new ProfileCatalog.Choice("demo", "lab")), List.of(), Optional.of("rescue"),
                Map.of("demo", ProfileLoader.IPXE));
        assertThat(catalog.loader(IN_LAB)).contains(ProfileLoader.IPXE);
        assertThat(catalog.loader(OTHER)).isEmpty();
        assignments.assign(new Assignments.Assignment(OTHER, "demo", false, Instant.now()));
        assertThat(catalog.loader(OTHER)).contains(ProfileLoader.IPXE);
        assertThatThrownBy(() -> catalog.reroute(Map.of(), List.of(), Optional.of("rescue"),
                Map.of("dmeo", ProfileLoader.GRUB))).hasMessageContaining("unknown profile 'dmeo'");
        assertThat(catalog.loader(IN_LAB)).contains(ProfileLoader.IPXE);
    }

    @Test
    void withoutTheStoreTheLoaderComesFromGroupAndDefaultAndNothingIsRead() {
        catalog.reroute(Map.of(IN_LAB, new ProfileCatalog.Choice("demo", "lab")), List.of(), Optional.of("rescue"),
                Map.of("demo", ProfileLoader.GRUB));
        assignments.assign(new Assignments.Assignment(OTHER, "demo", false, Instant.now()));
        assertThat(catalog.loader(OTHER)).as("from the assignment").contains(ProfileLoader.GRUB);
        assertThat(catalog.loaderWithoutStore(OTHER)).as("the default chooses no loader").isEmpty();
        assertThat(catalog.loaderWithoutStore(IN_LAB)).as("from the MAC group").contains(ProfileLoader.GRUB);
        assertThat(catalog.choiceWithoutStore(OTHER)).contains(new ProfileCatalog.Choice("rescue", "default"));
        ProfileCatalog unreadable = new ProfileCatalog(Map.of("demo", demo, "rescue", rescue),
                Map.of(IN_LAB, new ProfileCatalog.Choice("demo", "lab")), Optional.of("rescue"), new MemoryAssignments() {
                    @Override
                    public Optional<Assignment> assignment(MacAddress mac) {
                        throw new AssertionError("the store was read");
                    }
                });
        assertThat(unreadable.choiceWithoutStore(IN_LAB)).contains(new ProfileCatalog.Choice("demo", "group lab"));
    }

    @Test
    void aOneTimeAssignmentEndsWhenStageTwoIsReached() {
        assignments.assign(new Assignments.Assignment(IN_LAB, "rescue", true, Instant.now()));
        catalog.onEvent(BootEvent.ok(IN_LAB, Step.KERNEL, "bzImage", 1));
        catalog.onEvent(BootEvent.failed(IN_LAB, Step.STAGE2, "init crashed"));
        assertThat(catalog.specFor(IN_LAB)).contains(rescue);
        catalog.onEvent(BootEvent.ok(IN_LAB, Step.STAGE2, "", 0));
        assertThat(catalog.specFor(IN_LAB)).contains(demo);
        assertThat(assignments.map).isEmpty();
    }

    @Test
    void aBootHandedItsPlanAfterTheAssignmentUsesItUpEvenIfItsSessionBeganBefore() {
        Instant sessionStarted = Instant.now().minusSeconds(60);
        assignments.assign(new Assignments.Assignment(IN_LAB, "rescue", true, Instant.now().minusSeconds(10)));
        assertThat(catalog.planFor(IN_LAB, java.util.OptionalInt.empty())).isPresent(); // its script, after that
        catalog.onEvent(BootEvent.ok(IN_LAB, Step.STAGE2, "", 0), sessionStarted);
        assertThat(catalog.specFor(IN_LAB)).contains(demo);
    }

    @Test
    void aStageTwoOfABootHandedItsPlanBeforeTheAssignmentLeavesItAlone() {
        assertThat(catalog.planFor(IN_LAB, java.util.OptionalInt.empty())).isPresent();
        assignments.assign(new Assignments.Assignment(IN_LAB, "rescue", true, Instant.now().plusSeconds(60)));
        catalog.onEvent(BootEvent.ok(IN_LAB, Step.STAGE2, "", 0), Instant.now().minusSeconds(60));
        assertThat(catalog.specFor(IN_LAB)).contains(rescue);
    }

    @Test
    void aLateStageTwoOfABootThatBeganBeforeTheAssignmentLeavesItAlone() {
        Instant bootStarted = Instant.now().minusSeconds(60);
        assignments.assign(new Assignments.Assignment(IN_LAB, "rescue", true, bootStarted.plusSeconds(30)));
        catalog.onEvent(BootEvent.ok(IN_LAB, Step.STAGE2, "", 0), bootStarted);
        assertThat(catalog.specFor(IN_LAB)).as("the assignment came after that boot began").contains(rescue);
        catalog.onEvent(BootEvent.ok(IN_LAB, Step.STAGE2, "", 0), bootStarted.plusSeconds(40));
        assertThat(catalog.specFor(IN_LAB)).as("a boot that began after it used it up").contains(demo);
    }

    @Test
    void aOneTimeKernelAloneEndsWhenItsLastInitrdIsFetched() {
        Artifact linux = new Artifact("e".repeat(64), 1, "linux");
        Artifact first = new Artifact("f".repeat(64), 4, "initrd.gz");
        Artifact last = new Artifact("0".repeat(64), 4, "firmware.cpio");
        BootSpec installer = BootSpec.kernelOnly(linux, List.of(first, last), List.of("priority=low"));
        ProfileCatalog withInstaller = new ProfileCatalog(Map.of("demo", demo, "installer", installer),
                Map.of(IN_LAB, new ProfileCatalog.Choice("demo", "lab")), Optional.of("demo"), assignments);
        assignments.assign(new Assignments.Assignment(IN_LAB, "installer", true, Instant.now()));
        // No stage 2 will ever report: the last thing Pivot sees of this boot is the last initrd, sent whole.
        withInstaller.onEvent(BootEvent.ok(IN_LAB, Step.KERNEL, "linux", 1).withFile("linux"));
        withInstaller.onEvent(BootEvent.ok(IN_LAB, Step.INITRD, "initrd.gz", 4).withFile("initrd.gz"));
        withInstaller.onEvent(new BootEvent(Instant.now(), IN_LAB, Step.INITRD, true, "firmware.cpio: client closed",
                2).withFile("firmware.cpio"));
        assertThat(withInstaller.specFor(IN_LAB)).contains(installer);
        withInstaller.onEvent(BootEvent.ok(IN_LAB, Step.INITRD, "firmware.cpio", 4).withFile("firmware.cpio"));
        assertThat(withInstaller.specFor(IN_LAB)).contains(demo);
        assertThat(assignments.map).isEmpty();
    }

    @Test
    void aKernelAlonesLastFileEndsItsBootSoItIsNeverStalledThere() {
        Artifact linux = new Artifact("e".repeat(64), 1, "linux");
        Artifact initrd = new Artifact("f".repeat(64), 4, "initrd.gz");
        BootSpec installer = BootSpec.kernelOnly(linux, List.of(initrd), List.of());
        ProfileCatalog c = new ProfileCatalog(Map.of("demo", demo, "installer", installer),
                Map.of(IN_LAB, new ProfileCatalog.Choice("installer", "lab")), Optional.of("demo"), assignments);
        assertThat(c.endsBoot(BootEvent.ok(IN_LAB, Step.INITRD, "initrd.gz", 4).withFile("initrd.gz"), RDINIT))
                .isTrue();
        assertThat(c.endsBoot(BootEvent.ok(IN_LAB, Step.KERNEL, "linux", 1).withFile("linux"), RDINIT))
                .as("an initrd is still to come").isFalse();
        assertThat(c.endsBoot(BootEvent.ok(OTHER, Step.INITRD, "d", 4).withFile("d"), RDINIT))
                .as("a boot through Pivot's stage 1 goes on").isFalse();
    }

    @Test
    void aNativeBootsLastInitrdEndsItsBootTooForItsImagesStage1ReportsNothing() {
        Artifact kernel = new Artifact("a".repeat(64), 1, "bzImage");
        Artifact stage1 = new Artifact("b".repeat(64), 2, "initrd");
        Artifact rootCpio = new Artifact("c".repeat(64), 3, "nix-store.cpio");
        Artifact root = new Artifact("f".repeat(64), 3, "nix-store.squashfs");
        BootSpec nativeBoot = new BootSpec(kernel, List.of(stage1, rootCpio), root, "/nix/store/x-system/init",
                List.of(), "/init");
        ProfileCatalog c = new ProfileCatalog(Map.of("native", nativeBoot), Map.of(), Optional.of("native"),
                assignments);
        assertThat(c.endsBoot(BootEvent.ok(IN_LAB, Step.INITRD, "nix-store.cpio", 3).withFile("nix-store.cpio"),
                RDINIT)).isTrue();
        assertThat(c.endsBoot(BootEvent.ok(IN_LAB, Step.INITRD, "initrd", 2).withFile("initrd"), RDINIT))
                .as("the root image's initrd is still to come").isFalse();
        assertThat(c.endsBoot(BootEvent.ok(IN_LAB, Step.INITRD, "nix-store.cpio", 3).withFile("nix-store.cpio"),
                "/init")).as("were /init Pivot's stage 1, it would report next").isFalse();
    }

    @Test
    void withoutDefaultAnUnknownMachineIsNotBootedAndUnknownProfilesAreRefused() {
        ProfileCatalog noDefault = new ProfileCatalog(Map.of("demo", demo), Map.of(), Optional.empty(), assignments);
        assertThat(noDefault.specFor(OTHER)).isEmpty();
        assertThatThrownBy(() -> new ProfileCatalog(Map.of("demo", demo), Map.of(), Optional.of("nope"), assignments))
                .hasMessage("unknown profile 'nope' (known: demo)");
    }

    /** Machines known by firmware and labels, as the store would have them. */
    static MachineRepository machines(Machine... known) {
        Map<MacAddress, Machine> byMac = new HashMap<>();
        for (Machine m : known) {
            byMac.put(m.mac(), m);
        }
        return new MachineRepository() {
            @Override
            public List<Machine> machines() {
                return List.copyOf(byMac.values());
            }

            @Override
            public Optional<Machine> machine(MacAddress mac) {
                return Optional.ofNullable(byMac.get(mac));
            }

            @Override
            public boolean label(MacAddress mac, String name, String value) {
                return false;
            }
        };
    }

    static Machine machine(MacAddress mac, String firmware, Map<String, String> labels) {
        return new Machine(mac, Instant.EPOCH, Instant.EPOCH, Optional.ofNullable(firmware).flatMap(Firmware::fromWire), labels);
    }

    @Test
    void theMostSpecificSelectorGroupWinsAndAListedMacOutranksSelectors() {
        MacAddress uefiRack7 = MacAddress.parse("52:54:00:00:00:07");
        MacAddress biosRack7 = MacAddress.parse("52:54:00:00:00:08");
        MacAddress unknown = MacAddress.parse("52:54:00:00:00:09");
        BootSpec installer = spec("i");
        ProfileCatalog selecting = new ProfileCatalog(Map.of("demo", demo, "rescue", rescue, "installer", installer),
                Map.of(IN_LAB, new ProfileCatalog.Choice("demo", "lab")),
                List.of(new GroupSelector("uefi", "rescue", Optional.of(Firmware.EFI_X64), Map.of()),
                        new GroupSelector("rack7-uefi", "installer", Optional.of(Firmware.EFI_X64), Map.of("rack", "r7"))),
                machines(machine(uefiRack7, "uefi", Map.of("rack", "r7")),
                        machine(biosRack7, "bios", Map.of("rack", "r7")),
                        machine(IN_LAB, "uefi", Map.of("rack", "r7"))),
                Optional.of("demo"), assignments);

        assertThat(selecting.choice(uefiRack7)).contains(new ProfileCatalog.Choice("installer", "group rack7-uefi"));
        assertThat(selecting.choice(biosRack7)).as("misses firmware: no group")
                .contains(new ProfileCatalog.Choice("demo", "default"));
        assertThat(selecting.choice(unknown)).as("never seen: nothing to select by")
                .contains(new ProfileCatalog.Choice("demo", "default"));
        assertThat(selecting.choice(IN_LAB)).as("listed by MAC").contains(new ProfileCatalog.Choice("demo", "group lab"));

        // A first boot: no machine record yet (DHCP makes none), but DHCP showed the firmware.
        selecting.onEvent(BootEvent.ok(unknown, Step.DHCP, "offer", 0).withFirmware(Firmware.EFI_X64));
        assertThat(selecting.choice(unknown)).as("first boot, selected by the firmware DHCP showed")
                .contains(new ProfileCatalog.Choice("rescue", "group uefi"));
    }

    @Test
    void aSelectorGroupMustSelectSomething() {
        assertThatThrownBy(() -> new GroupSelector("all", "demo", Optional.empty(), Map.of()))
                .hasMessageContaining("group all selects no machines");
    }

    /** Running generations in memory, as the store keeps them. */
    static final class MemoryRunning implements GenerationStore {
        final Map<MacAddress, Running> running = new HashMap<>();

        @Override
        public Optional<ProfileGenerations> generations(String profile) {
            return Optional.empty();
        }

        @Override
        public boolean addGeneration(String profile, Generation generation) {
            return true;
        }

        @Override
        public void removeGenerations(String profile, List<Integer> numbers) {
        }

        @Override
        public void pinDefault(String profile, java.util.OptionalInt generation) {
        }

        @Override
        public void recordRunning(Running r) {
            running.put(r.mac(), r);
        }

        @Override
        public Map<MacAddress, Running> running() {
            return Map.copyOf(running);
        }
    }

    @Test
    void aMachineBootsItsProfilesDefaultGenerationOrItsAssignedOneOrItsMenuChoiceAndIsBehindAfterANewBuild() {
        Generations gens = new Generations(Optional.empty(), Optional.of(assignments), GenerationPolicy.DEFAULT);
        Instant t = Instant.parse("2026-12-05T00:00:00Z");
        gens.addBuild("pc", spec("d"), "24.11", t, "/one", t);
        MemoryRunning running = new MemoryRunning();
        ProfileCatalog catalog = new ProfileCatalog(gens, Optional.of(running), Map.of(), List.of(), null,
                Optional.of("pc"), assignments);

        BootPlan first = catalog.planFor(IN_LAB, java.util.OptionalInt.empty()).orElseThrow();
        assertThat(first.generation()).isEqualTo(1);
        assertThat(first.showsMenu()).as("one generation: no menu").isFalse();
        catalog.onEvent(BootEvent.ok(IN_LAB, Step.STAGE2, "demo", 0));
        assertThat(running.running().get(IN_LAB).generation()).isEqualTo(1);

        gens.addBuild("pc", spec("e"), "24.11", t, "/two", t);
        assertThat(catalog.status(IN_LAB, Optional.of(running.running().get(IN_LAB))).orElseThrow().behind()).isTrue();
        assertThat(catalog.machinesBehind()).isEqualTo(1);
        BootPlan menu = catalog.planFor(IN_LAB, java.util.OptionalInt.empty()).orElseThrow();
        assertThat(menu.showsMenu()).isTrue();
        assertThat(menu.menu()).extracting(BootPlan.MenuEntry::generation).containsExactly(2, 1);
        assertThat(menu.menu()).filteredOn(BootPlan.MenuEntry::isDefault).extracting(BootPlan.MenuEntry::generation)
                .containsExactly(2);

        BootPlan chosen = catalog.planFor(IN_LAB, java.util.OptionalInt.of(1)).orElseThrow();
        assertThat(chosen.spec()).isEqualTo(spec("d"));
        assertThat(chosen.menu()).isEmpty();
        catalog.onEvent(BootEvent.ok(IN_LAB, Step.STAGE2, "demo", 0));
        assertThat(running.running().get(IN_LAB).generation()).isEqualTo(1);

        assignments.assign(new Assignments.Assignment(OTHER, "pc", false, Instant.now(), java.util.OptionalInt.of(1)));
        assertThat(catalog.specFor(OTHER)).contains(spec("d"));
        assertThat(catalog.planFor(OTHER, java.util.OptionalInt.empty()).orElseThrow().menu())
                .filteredOn(BootPlan.MenuEntry::isDefault).extracting(BootPlan.MenuEntry::generation).containsExactly(1);

        gens.rollback("pc", java.util.OptionalInt.empty());
        assertThat(catalog.specFor(IN_LAB)).contains(spec("d"));
        assertThat(catalog.machinesBehind()).isZero();
    }
}
