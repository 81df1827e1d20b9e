package dev.pivot.stage1;

import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The init script's {@code nic_plan} (which module files to insmod for the devices present), cut from the shipped
 * script and run by Debian's static busybox as stage 1 runs it: modules.alias patterns are globs (fnmatch) matched
 * against the devices' modaliases; dependencies come first, each file once, loaded modules never.
 */
class NicPlanTest {

    private static final String ALIAS = """
            # Aliases extracted from modules themselves.
            alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci
            alias virtio:d00000001v* virtio_net
            alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000
            alias pci:v00008086d000010D3sv*sd*bc*sc*i* e1000e
            alias pci:v*d*sv*sd*bc02sc80i* class_net
            alias pci:v000010ECd00008139sv*sd*bc*sc*i* 8139too
            alias pci:v000010ECd0000813?sv*sd*bc*sc*i* 8139cp
            alias usb:v0B95p1790d*dc*dsc*dp*ic*isc*ip*in* ax88179_178a
            alias fs-squashfs squashfs
            alias of:N*T*Cvirtio,mmio virtio_mmio
            alias pci:v000014E4d00001657sv*sd*bc*sc*i* tg3
            """;
    private static final String DEP = """
            kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
            kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
            kernel/drivers/virtio/virtio_ring.ko:
            kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
            kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
            kernel/net/core/failover.ko:
            kernel/drivers/net/ethernet/intel/e1000/e1000.ko.xz:
            kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz: kernel/drivers/ptp/ptp.ko.xz
            kernel/drivers/ptp/ptp.ko.xz:
            kernel/drivers/net/class-net.ko:
            kernel/drivers/net/ethernet/realtek/8139too.ko:
            kernel/drivers/net/ethernet/realtek/8139cp.ko:
            kernel/fs/squashfs/squashfs.ko:
            kernel/drivers/net/ethernet/broadcom/tg3.ko.zst: kernel/drivers/ptp/ptp.ko.xz
            """;
    private static final String VIRTIO_NET_PCI = "pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00";
    private static final String HOST_BRIDGE = "pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00";

    @TempDir
    Path dir;
    private Path script;

    @BeforeEach
    void cutTheFunctionFromTheShippedScript() throws IOException {
        Require.file(Prelude.DEFAULT_BUSYBOX, "busybox-static");
        String init;
        try (InputStream in = Prelude.class.getResourceAsStream(Prelude.INIT_RESOURCE)) {
            assertThat(in).as("the init script on the class path").isNotNull();
            init = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Matcher m = Pattern.compile("(?ms)^nic_plan\\(\\) \\{.*?^}$").matcher(init);
        assertThat(m.find()).as("nic_plan in the init script").isTrue();
        script = dir.resolve("plan.sh");
        Files.writeString(script, m.group() + "\nnic_plan \"$1\" \"$2\" \"$3\"\n");
        Files.writeString(dir.resolve("modules.alias"), ALIAS);
        Files.writeString(dir.resolve("modules.dep"), DEP);
    }

    private List<String> plan(String loaded, String... devices) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(Prelude.DEFAULT_BUSYBOX.toString(), "sh", script.toString(), dir.toString(),
                String.join("\n", devices), loaded).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("nic_plan ended").isTrue();
        assertThat(p.exitValue()).as("nic_plan's status; it said: %s", out).isZero();
        return out.lines().map(l -> l.replace(dir + "/", "")).toList();
    }

    @Test
    void aVirtioNicGetsItsBusDriverFirstThenTheNetDriverOnceTheBusShowsIt() throws Exception {
        assertThat(plan("", HOST_BRIDGE, VIRTIO_NET_PCI)).containsExactly(
                "F kernel/drivers/virtio/virtio_ring.ko",
                "F kernel/drivers/virtio/virtio.ko",
                "F kernel/drivers/virtio/virtio_pci.ko",
                "M virtio_pci");
        // The next pass: virtio_pci has revealed the virtio device; what is loaded is not loaded again.
        assertThat(plan("virtio_pci virtio virtio_ring", HOST_BRIDGE, VIRTIO_NET_PCI, "virtio:d00000001v00001AF4"))
                .containsExactly(
                        "F kernel/net/core/failover.ko",
                        "F kernel/drivers/net/net_failover.ko",
                        "F kernel/drivers/net/virtio_net.ko",
                        "M virtio_net");
    }

    @Test
    void vendorPatternsQuestionMarksAndClassWildcardsMatchAsGlobs() throws Exception {
        assertThat(plan("", "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00"))
                .containsExactly("F kernel/drivers/ptp/ptp.ko.xz", "F kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz",
                        "M e1000e");
        // 813? matches 8139 too: both modules, each once, in the alias file's order.
        assertThat(plan("", "pci:v000010ECd00008139sv000010ECsd00008139bc02sc00i00")).containsExactly(
                "F kernel/drivers/net/ethernet/realtek/8139too.ko", "M 8139too",
                "F kernel/drivers/net/ethernet/realtek/8139cp.ko", "M 8139cp");
        // A pattern whose literal start is "pci:v" (any vendor) matches by class.
        assertThat(plan("", "pci:v00001234d00005678sv00001234sd00000000bc02sc80i00"))
                .containsExactly("F kernel/drivers/net/class-net.ko", "M class_net");
    }

    @Test
    void aSharedDependencyIsLoadedOnceAndDashesMatchUnderscores() throws Exception {
        assertThat(plan("", "pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00",
                "pci:v000014E4d00001657sv0000103Csd000022BEbc02sc00i00")).containsExactly(
                "F kernel/drivers/ptp/ptp.ko.xz",
                "F kernel/drivers/net/ethernet/intel/e1000e/e1000e.ko.xz",
                "M e1000e",
                "F kernel/drivers/net/ethernet/broadcom/tg3.ko.zst",
                "M tg3");
    }

    @Test
    void noDeviceOfAPatternsVendorNoAPatternWithoutWildcardsAndNothingLoadedTwice() throws Exception {
        assertThat(plan("", HOST_BRIDGE, "pci:v00008086d0000100Fsv00008086sd0000001Ebc02sc00i00")).isEmpty();
        assertThat(plan("", "fs-squashfs")).containsExactly("F kernel/fs/squashfs/squashfs.ko", "M squashfs");
        assertThat(plan("virtio_pci", VIRTIO_NET_PCI)).isEmpty();
    }
}
