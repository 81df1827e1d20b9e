package dev.pivot.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * QEMU's accelerator. KVM only when a real kvm_intel/kvm_amd is loaded and kvm_pvm is absent: under kvm_pvm
 * (nested, PVM-aware guests only) a normal guest never boots, so TCG is the safe default.
 */
public enum Accel {
    KVM(List.of("-accel", "kvm", "-cpu", "host,-arch-capabilities")),
    TCG(List.of("-accel", "tcg"));

    private final List<String> args;

    Accel(List<String> args) {
        this.args = args;
    }

    public List<String> qemuArgs() {
        return args;
    }

    public static Accel detect() {
        return detect(Path.of("/sys/module"), Path.of("/dev/kvm"));
    }

    static Accel detect(Path sysModule, Path devKvm) {
        boolean real = Files.isDirectory(sysModule.resolve("kvm_intel")) || Files.isDirectory(sysModule.resolve("kvm_amd"));
        boolean pvm = Files.isDirectory(sysModule.resolve("kvm_pvm"));
        return real && !pvm && Files.isWritable(devKvm) ? KVM : TCG;
    }
}
