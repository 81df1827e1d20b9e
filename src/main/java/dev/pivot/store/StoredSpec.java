package dev.pivot.store;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;

import java.util.List;
import java.util.Optional;

/**
 * A generation's boot spec as the store keeps it (JSON in profile_generation.spec): flat, with the stage-1 part's
 * fields null for a kernel served alone, so the domain record can change shape without the stored rows changing.
 */
record StoredSpec(Artifact kernel, List<Artifact> initrds, Artifact rootImage, String init, List<String> kernelArgs,
                  String stage1Init) {

    static StoredSpec of(BootSpec spec) {
        Optional<BootSpec.RootBoot> root = spec.rootBoot();
        return new StoredSpec(spec.kernel(), spec.initrds(), root.map(BootSpec.RootBoot::rootImage).orElse(null),
                root.map(BootSpec.RootBoot::init).orElse(null), spec.kernelArgs(),
                root.map(BootSpec.RootBoot::stage1Init).orElse(null));
    }

    BootSpec spec() {
        List<String> args = kernelArgs == null ? List.of() : kernelArgs;
        List<Artifact> all = initrds == null ? List.of() : initrds;
        return rootImage == null ? BootSpec.kernelOnly(kernel, all, args)
                : new BootSpec(kernel, all, rootImage, init, args, stage1Init);
    }
}
