package dev.pivot.stage1;

import dev.pivot.boot.Artifact;
import dev.pivot.format.cpio.CpioEntry;
import dev.pivot.format.cpio.CpioReader;
import dev.pivot.artifacts.ArtifactStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Native mode's second initrd: a plain newc cpio of /nix-store.squashfs, and the limits said up front. */
class NativeRootInitrdTest {

    @TempDir
    Path tmp;

    @Test
    void aSmallImageFitsAndTheAdviceNamesBothRamFigures() {
        NativeRootInitrd.Plan plan = NativeRootInitrd.plan(300L << 20);
        assertThat(plan.refusal()).isEmpty();
        assertThat(plan.ramNeeded()).isEqualTo(3 * (300L << 20) + (256L << 20));
        assertThat(plan.advice()).contains("300 MiB root image", "about 1156 MiB of RAM", "3 copies",
                "--stage1 prelude needs about 556 MiB");
    }

    @Test
    void aMachineWithTooLittleRamIsRefusedNamingWhatItWouldNeed() {
        // 300 MiB in a 768 MB machine: fetch mode boots it (Stage1IT); natively it needs 3 copies + 256 MiB.
        NativeRootInitrd.Plan plan = NativeRootInitrd.plan(300L << 20, java.util.OptionalLong.of(768L << 20));
        assertThat(plan.refusal()).get().asString().contains("1156 MiB", "768 MiB", "--machine-ram");
        assertThat(NativeRootInitrd.plan(300L << 20, java.util.OptionalLong.of(2048L << 20)).refusal()).isEmpty();
    }

    @Test
    void overTwoGibIpxeCannotLoadItAndOverFourGibNewcCannotCarryIt() {
        assertThat(NativeRootInitrd.plan(2300L << 20).refusal()).get().asString()
                .contains("iPXE cannot load an initrd over 2 GiB", "#203593", "7156 MiB of RAM");
        assertThat(NativeRootInitrd.plan(5L << 30).refusal()).get().asString()
                .contains("newc cpio cannot carry a file over 4 GiB", "#399607");
    }

    @Test
    void theCpioHoldsTheSquashfsAtTheRootAndIsPaddedToFour() throws Exception {
        byte[] squashfs = new byte[12345];
        new Random(3).nextBytes(squashfs);
        Path file = Files.write(tmp.resolve("root.squashfs"), squashfs);
        ArtifactStore store = ArtifactStore.open(tmp.resolve("state"));
        Artifact cpio = NativeRootInitrd.build(store, file, squashfs.length);
        assertThat(cpio.name()).isEqualTo("nix-store.cpio");
        assertThat(cpio.size() % 4).isZero();
        try (InputStream in = Files.newInputStream(store.path(cpio))) {
            CpioReader reader = CpioReader.allArchives(in, "test");
            CpioEntry e = reader.next();
            assertThat(e.path()).isEqualTo("nix-store.squashfs");
            assertThat(reader.body().readAllBytes()).isEqualTo(squashfs);
            assertThat(reader.next()).isNull();
        }
    }

    @Test
    void buildingATooLargeImageIsRefusedWithTheAlternative() {
        assertThatThrownBy(() -> NativeRootInitrd.build(ArtifactStore.open(tmp.resolve("s")), tmp.resolve("x"),
                3L << 30)).isInstanceOf(Stage1Exception.class).hasMessageContaining("use --stage1 prelude");
    }
}
