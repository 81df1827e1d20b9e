package dev.pivot.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class AccelTest {
    @Test
    void kvmOnlyWithARealKvmModuleAndNoPvm(@TempDir Path sys) throws IOException {
        Path kvm = Files.createFile(sys.resolve("kvm-dev"));
        assertThat(Accel.detect(sys, kvm)).isEqualTo(Accel.TCG);
        Files.createDirectory(sys.resolve("kvm_intel"));
        assertThat(Accel.detect(sys, kvm)).isEqualTo(Accel.KVM);
        Files.createDirectory(sys.resolve("kvm_pvm"));
        assertThat(Accel.detect(sys, kvm)).isEqualTo(Accel.TCG);
    }
}
