package dev.pivot.image;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Where stage 1 over NBD finds each module it needs, from the module trees an image check read. */
class NbdReadinessTest {

    private static ImageCheckResult check(ModuleTree initrd, ModuleTree store) {
        return new ImageCheckResult("6.1.0-57-amd64 (debian-kernel@lists.debian.org)",
                initrd == null && store == null ? null : "6.1.0-57-amd64", "/sbin/init", initrd, store, List.of());
    }

    @Test
    void eachModuleIsBuiltInInTheInitrdInTheRootImageOrMissing() {
        ModuleTree initrd = new ModuleTree.Builder("initrd", "lib/modules/6.1.0-57-amd64")
                .file("kernel/drivers/block/loop.ko").builtin("kernel/fs/squashfs/squashfs.ko").build();
        ModuleTree store = new ModuleTree.Builder("root image", "/lib/modules/6.1.0-57-amd64")
                .file("kernel/drivers/block/nbd.ko.xz").file("kernel/drivers/md/dm-mod.ko.xz").build();

        NbdReadiness r = NbdReadiness.of(check(initrd, store), 8192);

        assertThat(r.modules()).containsExactly(java.util.Map.entry("nbd", "root image"),
                java.util.Map.entry("squashfs", "built in"), java.util.Map.entry("loop", "initrd"),
                java.util.Map.entry("dm_mod", "root image"), java.util.Map.entry("dm_verity", NbdReadiness.MISSING));
        assertThat(r.bootsOverNbd()).isTrue();
        assertThat(r.known()).isTrue();
        assertThat(r.verity()).as("dm_verity is missing").isFalse();
        assertThat(r.notes()).anyMatch(n -> n.startsWith("without dm-verity"));
    }

    @Test
    void withoutNbdAnywhereItCannotBoot() {
        ModuleTree store = new ModuleTree.Builder("root image", "/lib/modules/6.1.0-57-amd64")
                .file("kernel/drivers/block/loop.ko").file("kernel/fs/squashfs/squashfs.ko")
                .file("kernel/drivers/md/dm-mod.ko").file("kernel/drivers/md/dm-verity.ko").build();

        NbdReadiness r = NbdReadiness.of(check(null, store), 4096 * 3);

        assertThat(r.modules()).containsEntry("nbd", NbdReadiness.MISSING);
        assertThat(r.bootsOverNbd()).isFalse();
        assertThat(r.verity()).isTrue();
        assertThat(r.notes()).anyMatch(n -> n.startsWith("nbd is neither built into the kernel nor in the initrd"));
    }

    @Test
    void withNoModuleTreeReadEveryPlaceIsUnknownAndNbdIsNotRefused() {
        NbdReadiness r = NbdReadiness.of(check(null, null), 4096);

        assertThat(r.modules().values()).containsOnly(NbdReadiness.UNKNOWN);
        assertThat(r.known()).isFalse();
        assertThat(r.bootsOverNbd()).as("nothing is known to be missing").isTrue();
        assertThat(r.verity()).as("dm-verity is not known to be there").isFalse();
        assertThat(r.notes()).anyMatch(n -> n.startsWith("no module tree was read"))
                .noneMatch(n -> n.contains("neither built into"));
    }

    @Test
    void anImageOfPartBlocksGetsNoHashTree() {
        ModuleTree store = new ModuleTree.Builder("root image", "/lib/modules/6.1.0-57-amd64")
                .builtin("kernel/drivers/block/nbd.ko\nkernel/drivers/block/loop.ko\nkernel/fs/squashfs/squashfs.ko\n"
                        + "kernel/drivers/md/dm-mod.ko\nkernel/drivers/md/dm-verity.ko\n").build();

        NbdReadiness r = NbdReadiness.of(check(null, store), 4096 + 1);

        assertThat(r.modules().values()).containsOnly("built in");
        assertThat(r.verity()).isFalse();
        assertThat(r.notes()).anyMatch(n -> n.contains("4097 bytes, not a whole number of 4096-byte blocks"));
    }
}
