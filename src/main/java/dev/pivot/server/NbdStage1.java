package dev.pivot.server;

import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.image.ImageCheck;
import dev.pivot.image.ImageCheckResult;
import dev.pivot.image.KernelArch;
import dev.pivot.image.NbdReadiness;
import dev.pivot.image.Stage1Drivers;
import dev.pivot.stage1.CpuArch;
import dev.pivot.stage1.NbdClientFiles;
import dev.pivot.stage1.Prelude;
import dev.pivot.stage1.Stage1Contract;
import dev.pivot.stage1.Stage1Exception;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * With --root-transport nbd: what stage 1 needs beyond the prelude to attach the root image, as initrds after it.
 * {@value #CLIENT}: the NBD client with its libraries (and dmsetup), packed once per server start, the same for every
 * image. {@value #MODULES}, per image and only when its initrd lacks them: the nbd and dm-verity modules taken from
 * its root image, with a modules.dep and modules.alias for every module Pivot took from there (they replace the
 * prelude's).
 *
 * <p>A generation records the prelude alone, the same on every server. So servers sharing a database may use
 * different transports: one on NBD adds these to any generation it serves, whichever server recorded it.
 */
final class NbdStage1 {

    /**
     * What stage 1 loads to attach the root image over NBD and check its blocks with dm-verity (when the initrd
     * lacks them and they are modules).
     */
    static final List<String> NBD_MODULES = List.of("nbd", "dm_mod", "dm_verity");
    static final String CLIENT = "pivot-nbd.cpio.gz";
    static final String MODULES = "pivot-nbd-modules.cpio.gz";

    private final ArtifactStore store;
    private final Artifact client;
    private final PrintStream out;
    /** Keyed by kernel, the image's initrd and its root image: what the modules are taken from. */
    private final Map<String, Optional<List<Artifact>>> byBoot = new ConcurrentHashMap<>();

    private NbdStage1(ArtifactStore store, Artifact client, PrintStream out) {
        this.store = store;
        this.client = client;
        this.out = out;
    }

    /** Packs this host's NBD client; says what is missing and what that costs the machines. */
    static NbdStage1 create(ArtifactStore store, PrintStream out) throws Stage1Exception {
        NbdClientFiles client = NbdClientFiles.of(NbdClientFiles.DEFAULT_CLIENT);
        if (Files.isRegularFile(NbdClientFiles.DEFAULT_QEMU_NBD)) {
            client = client.withQemuNbd(NbdClientFiles.DEFAULT_QEMU_NBD);
        } else {
            out.println("pivot: WARNING " + NbdClientFiles.DEFAULT_QEMU_NBD + " is missing (Debian's qemu-utils):"
                    + " stage 1 attaches with nbd-client, and the machines lose their root image when pivot serve"
                    + " restarts");
        }
        if (Files.isRegularFile(NbdClientFiles.DEFAULT_DMSETUP)) {
            client = client.withDmsetup(NbdClientFiles.DEFAULT_DMSETUP);
        } else {
            out.println("pivot: WARNING " + NbdClientFiles.DEFAULT_DMSETUP + " is missing (Debian's dmsetup):"
                    + " stage 1 cannot set up dm-verity, and will say that the root image's blocks are not checked");
        }
        return new NbdStage1(store, Prelude.addOn(store, CLIENT, client.files(), client.executables()), out);
    }

    /**
     * The initrds to load after the prelude of a boot through it, the modules' built on first use; empty for any
     * other boot, and for one whose stage 1 cannot attach over NBD (a kernel of another processor than this server's
     * client, or without the nbd module): such a boot fetches its root image over HTTP.
     */
    Optional<List<Artifact>> of(BootSpec spec) {
        Optional<BootSpec.RootBoot> root = spec.rootBoot()
                .filter(r -> r.stage1Init().equals(Stage1Contract.RDINIT) && !spec.initrds().isEmpty());
        if (root.isEmpty()) {
            return Optional.empty();
        }
        Artifact initrd = spec.initrds().getFirst();
        if (!Stream.of(spec.kernel(), initrd, root.get().rootImage())
                .allMatch(a -> Files.isRegularFile(store.path(a)))) {
            return Optional.empty(); // not fetched from a peer yet: asked again when it is served
        }
        String key = spec.kernel().sha256() + " " + initrd.sha256() + " " + root.get().rootImage().sha256();
        return byBoot.computeIfAbsent(key, k -> build(spec.kernel(), initrd, root.get()));
    }

    private Optional<List<Artifact>> build(Artifact kernel, Artifact initrd, BootSpec.RootBoot root) {
        String what = "root image " + root.rootImage().sha256().substring(0, 12);
        try {
            Path image = store.path(root.rootImage());
            Optional<CpuArch> arch = KernelArch.of(store.path(kernel));
            if (arch.isPresent() && arch.get() != CpuArch.X86_64) {
                out.println("pivot: " + what + ": an " + arch.get().label() + " kernel, and stage 1's NBD client is"
                        + " this server's (x86-64): served over HTTP");
                return Optional.empty();
            }
            ImageCheckResult check = ImageCheck.check(store.path(kernel), store.path(initrd), image, root.init());
            // With no module tree read, nbd's place is unknown, not missing: the operator's choice of NBD stands.
            NbdReadiness readiness = NbdReadiness.of(check, root.rootImage().size());
            if (readiness.modules().get("nbd").equals(NbdReadiness.MISSING)) {
                out.println("pivot: " + what + ": the nbd module is neither built into its kernel nor in its initrd or"
                        + " root image: served over HTTP (stage 1 fetches it into RAM)");
                return Optional.empty();
            }
            // The prelude has the NIC drivers already (when it needed them): only the module files it lacks, and
            // the indexes for both, which replace its own.
            Set<String> inPrelude = Stage1Drivers.modulesNeeded(check, List.of());
            if (inPrelude.containsAll(Stage1Drivers.modulesNeeded(check, NBD_MODULES))) {
                return Optional.of(List.of(client));
            }
            Stage1Drivers withNbd = Stage1Drivers.whenNeeded(check, image, NBD_MODULES, inPrelude).orElseThrow();
            SortedMap<String, byte[]> files = new TreeMap<>();
            withNbd.preludeFiles().forEach(f -> files.put(f.relativePath(), f.content()));
            Set<String> taken = new TreeSet<>(withNbd.modules());
            taken.removeAll(inPrelude);
            out.printf("pivot: %s: stage 1 gets %s from its %s%n", what, String.join(", ", taken),
                    withNbd.source());
            return Optional.of(List.of(client, Prelude.addOn(store, MODULES, files, Set.of())));
        } catch (IOException | Stage1Exception | RuntimeException e) {
            out.println("pivot: " + what + ": cannot take the nbd and dm-verity modules from it (" + e.getMessage()
                    + "): served over HTTP");
            return Optional.empty();
        }
    }
}
