package dev.pivot.image;

import dev.pivot.format.squashfs.SquashfsImage;
import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** NIC drivers taken out of a root image (made by the real mksquashfs) for the prelude, with their deps. */
class Stage1DriversTest {

    static final String RELEASE = "6.1.0-test";
    static final String MODULES = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-linux-" + RELEASE + "-modules/lib/modules/"
            + RELEASE;
    static final Map<String, String> FILES = Map.of(
            "kernel/drivers/net/virtio_net.ko.xz", "virtio_net: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz",
            "kernel/drivers/net/net_failover.ko.xz", "net_failover: kernel/net/core/failover.ko.xz",
            "kernel/net/core/failover.ko.xz", "failover:",
            "kernel/drivers/net/ethernet/intel/e1000/e1000.ko.xz", "e1000:",
            "kernel/drivers/net/tun.ko.xz", "tun:",
            "kernel/fs/squashfs/squashfs.ko.xz", "squashfs:");
    static final String ALIAS = """
            # Aliases extracted from modules themselves.
            alias virtio:d00000001v* virtio_net
            alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000
            alias char-major-10-200 tun
            alias fs-squashfs squashfs
            """;

    @TempDir
    Path tmp;

    private Path rootImage() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Path dir = Files.createDirectories(src.resolve(MODULES.substring("/nix/store/".length())));
        StringBuilder dep = new StringBuilder();
        for (var e : FILES.entrySet()) {
            Files.createDirectories(dir.resolve(e.getKey()).getParent());
            Files.writeString(dir.resolve(e.getKey()), "module " + e.getKey());
            dep.append(e.getKey()).append(':');
            for (String d : e.getValue().substring(e.getValue().indexOf(':') + 1).strip().split("\\s+")) {
                if (!d.isEmpty()) {
                    dep.append(' ').append(d);
                }
            }
            dep.append('\n');
        }
        Files.writeString(dir.resolve("modules.dep"), dep);
        Files.writeString(dir.resolve("modules.alias"), ALIAS);
        Files.writeString(dir.resolve("modules.builtin"), "kernel/net/packet/af_packet.ko\n");
        Tools.require("mksquashfs", "squashfs-tools");
        Path image = tmp.resolve("root.squashfs");
        Tools.sh(tmp, "mksquashfs " + src + " " + image + " -comp gzip -noappend -quiet -no-progress >/dev/null");
        return image;
    }

    static final Map.Entry<String, String> VIRTIO_NET = Map.entry("virtio_net", "kernel/drivers/net/virtio_net.ko.xz");
    static final Map.Entry<String, String> SQUASHFS = Map.entry("squashfs", "kernel/fs/squashfs/squashfs.ko.xz");

    /** The check of an image whose initrd holds one module (name → file), and whose root image has {@code store}. */
    private static ImageCheckResult initrdWith(ModuleTree store, Map.Entry<String, String> module) {
        ModuleTree initrd = new ModuleTree("initrd", "/lib/modules/" + RELEASE, Map.ofEntries(module), Map.of(),
                Map.of(), Set.of("modules.dep"));
        return new ImageCheckResult(null, RELEASE, null, initrd, store, List.of());
    }

    private static ModuleTree storeTree(Path image) throws Exception {
        try (SquashfsImage sq = SquashfsImage.open(image)) {
            return ImageCheck.rootModules(sq, RELEASE, "/nix/store/xxx-nixos-system/init", false);
        }
    }

    @Test
    void takesTheWantedDriversWithTheirDependenciesAndOnlyTheirAliases() throws Exception {
        Path image = rootImage();
        ModuleTree store = storeTree(image);
        Stage1Drivers d = Stage1Drivers.take(store, image, RELEASE, List.of("virtio_net", "e1000", "igb")).orElseThrow();

        assertThat(d.modules()).containsExactly("e1000", "failover", "net_failover", "virtio_net");
        assertThat(d.source()).isEqualTo(MODULES);
        assertThat(d.files()).allSatisfy(f -> assertThat(new String(f.content(), StandardCharsets.UTF_8))
                .isEqualTo("module " + f.relativePath()));
        assertThat(d.modulesDep().lines()).contains(
                "kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz",
                "kernel/net/core/failover.ko.xz:");
        // in the source's order: depmod's order is kept
        assertThat(d.modulesAlias().lines()).containsExactly("alias virtio:d00000001v* virtio_net",
                "alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000");
        assertThat(d.preludeFiles()).extracting(Stage1Drivers.ModuleFile::relativePath)
                .contains("pivot/modules/" + RELEASE + "/kernel/drivers/net/virtio_net.ko.xz",
                        "pivot/modules/" + RELEASE + "/modules.dep", "pivot/modules/" + RELEASE + "/modules.alias");
    }

    @Test
    void nothingIsTakenWhenTheInitrdHasANicDriver() throws Exception {
        Path image = rootImage();
        ModuleTree store = storeTree(image);
        assertThat(Stage1Drivers.whenNeeded(initrdWith(store, VIRTIO_NET), image)).isEmpty();

        ImageCheckResult without = initrdWith(store, SQUASHFS);
        assertThat(Stage1Drivers.whenNeeded(without, image)).get()
                .satisfies(d -> assertThat(d.modules()).contains("virtio_net", "e1000").doesNotContain("tun"));
    }

    @Test
    void theNamesOfWhatIsNeededAreKnownWithoutReadingTheModules() throws Exception {
        Path image = rootImage();
        ModuleTree store = storeTree(image);
        ImageCheckResult without = initrdWith(store, SQUASHFS);

        Set<String> names = Stage1Drivers.modulesNeeded(without, List.of("tun", "squashfs", "nbd"));
        // tun is wanted and only the root image has it; squashfs is in the initrd; nbd is nowhere
        assertThat(names).containsExactly("e1000", "failover", "net_failover", "tun", "virtio_net");
        assertThat(Stage1Drivers.whenNeeded(without, image, List.of("tun", "squashfs", "nbd")))
                .get().extracting(Stage1Drivers::modules).isEqualTo(names);

        assertThat(Stage1Drivers.modulesNeeded(initrdWith(store, VIRTIO_NET), List.of())).isEmpty();
    }

    @Test
    void modulesPackedAlreadyAreNotReadButStayInTheIndexes() throws Exception {
        Path image = rootImage();
        ImageCheckResult without = initrdWith(storeTree(image), SQUASHFS);
        Set<String> nics = Stage1Drivers.modulesNeeded(without, List.of());

        Stage1Drivers d = Stage1Drivers.whenNeeded(without, image, List.of("tun"), nics).orElseThrow();

        assertThat(d.modules()).containsExactly("e1000", "failover", "net_failover", "tun", "virtio_net");
        assertThat(d.files()).extracting(Stage1Drivers.ModuleFile::relativePath)
                .containsExactly("kernel/drivers/net/tun.ko.xz");
        assertThat(d.modulesDep().lines()).contains("kernel/drivers/net/tun.ko.xz:",
                "kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz");
        assertThat(d.modulesAlias().lines()).contains("alias char-major-10-200 tun",
                "alias virtio:d00000001v* virtio_net");
    }

    @Test
    void nothingIsTakenWhenTheRootImageHasNoneOfTheDrivers() throws Exception {
        Path image = rootImage();
        assertThat(Stage1Drivers.take(storeTree(image), image, RELEASE, List.of("igb", "ixgbe"))).isEmpty();
    }

    @Test
    void aliasLinesMatchNamesWithDashesOrUnderscores() {
        assertThat(Stage1Drivers.aliasLines("alias pci:v1 r8169\nalias usb:v2 some-driver\nalias x other\n",
                Set.of("r8169", "some_driver"))).isEqualTo("alias pci:v1 r8169\nalias usb:v2 some-driver\n");
    }
}
