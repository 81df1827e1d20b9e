package dev.pivot.stage1;

import dev.pivot.boot.Artifact;
import dev.pivot.format.cpio.CpioEntry;
import dev.pivot.format.cpio.CpioReader;
import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.testsupport.Tools;
import dev.pivot.testsupport.Require;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PreludeTest {

    @TempDir
    Path tmp;

    private static void requireStaticBusybox() throws IOException {
        Require.file(Prelude.DEFAULT_BUSYBOX, "busybox-static");
        assertThat(StaticElf.interpreter(Prelude.DEFAULT_BUSYBOX)).as(
                "/bin/busybox must be static (Debian package busybox-static, not busybox)").isEmpty();
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = PreludeTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void holdsBusyboxInitUdhcpcScriptAndConsole() throws Exception {
        requireStaticBusybox();
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));

        Artifact prelude = Prelude.build(store, Prelude.DEFAULT_BUSYBOX);

        assertThat(prelude.name()).isEqualTo("pivot.cpio.gz");
        assertThat(prelude.size() % 4).isZero();
        Map<String, CpioEntry> entries = new LinkedHashMap<>();
        Map<String, byte[]> bodies = new LinkedHashMap<>();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(store.path(prelude))))) {
            CpioReader reader = new CpioReader(in, "prelude");
            CpioEntry entry;
            while ((entry = reader.next()) != null) {
                entries.put(entry.path(), entry);
                bodies.put(entry.path(), reader.body().readAllBytes());
            }
        }
        assertThat(entries.keySet()).contains("pivot", "dev", "proc", "sys", "run", "dev/console", "pivot/busybox",
                "pivot/init", "pivot/udhcpc.script");
        CpioEntry console = entries.get("dev/console");
        assertThat(console.isCharDevice()).isTrue();
        assertThat(console.rdevMajor()).isEqualTo(5);
        assertThat(console.rdevMinor()).isEqualTo(1);
        assertThat(entries.get("pivot/init").permissions()).isEqualTo(0755);
        assertThat(entries.get("pivot/udhcpc.script").permissions()).isEqualTo(0755);
        assertThat(entries.get("pivot/busybox").permissions()).isEqualTo(0755);
        assertThat(bodies.get("pivot/busybox")).isEqualTo(Files.readAllBytes(Prelude.DEFAULT_BUSYBOX));
        assertThat(bodies.get("pivot/init")).isEqualTo(resource(Prelude.INIT_RESOURCE));
        assertThat(bodies.get("pivot/udhcpc.script")).isEqualTo(resource(Prelude.UDHCPC_SCRIPT_RESOURCE));
    }

    @Test
    void gnuCpioAndGzipAcceptIt() throws Exception {
        requireStaticBusybox();
        Tools.require("cpio", "cpio");
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));
        Path file = store.path(Prelude.build(store));
        // gzip -t tolerates the NUL padding after the member only with a warning (exit 2); the kernel skips it.
        String listing = Tools.sh(tmp, "gzip -dc < " + file + " 2>/dev/null | cpio -itv 2>/dev/null; true");
        assertThat(listing).containsPattern("crw------- .* 5, +1 .* dev/console");
        assertThat(listing).containsPattern("-rwxr-xr-x .* pivot/busybox");
        assertThat(listing).containsPattern("-rwxr-xr-x .* pivot/init");
    }

    /** An initrd that adds files to the prelude: each parent directory before its files, as the kernel needs. */
    @Test
    void anAddOnHoldsItsFilesUnderTheirDirectoriesTheSameEachTime() throws Exception {
        Tools.require("cpio", "cpio");
        java.util.SortedMap<String, byte[]> files = new java.util.TreeMap<>(Map.of(
                "pivot/nbd/qemu-nbd", "binary".getBytes(), "pivot/nbd/lib/libc.so.6", "library".getBytes(),
                "pivot/modules/6.1.0/modules.dep", "nbd.ko:\n".getBytes()));
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));

        Artifact addOn = Prelude.addOn(store, "pivot-nbd.cpio.gz", files, java.util.Set.of("pivot/nbd/qemu-nbd"));

        assertThat(addOn.name()).isEqualTo("pivot-nbd.cpio.gz");
        assertThat(Prelude.addOn(ArtifactStore.open(tmp.resolve("again")), "pivot-nbd.cpio.gz", files,
                java.util.Set.of("pivot/nbd/qemu-nbd"))).isEqualTo(addOn);
        String listing = Tools.sh(tmp, "gzip -dc < " + store.path(addOn) + " 2>/dev/null | cpio -itv 2>/dev/null; true");
        assertThat(listing.lines().map(l -> l.substring(l.lastIndexOf(' ') + 1)).toList()).containsExactly(
                "pivot", "pivot/modules", "pivot/modules/6.1.0", "pivot/modules/6.1.0/modules.dep", "pivot/nbd",
                "pivot/nbd/lib", "pivot/nbd/lib/libc.so.6", "pivot/nbd/qemu-nbd");
        assertThat(listing).containsPattern("-rwxr-xr-x .* pivot/nbd/qemu-nbd")
                .containsPattern("-rw-r--r-- .* pivot/nbd/lib/libc.so.6").containsPattern("drwxr-xr-x .* pivot/nbd\n");
    }

    @Test
    void sameInputsGiveTheSameSha256() throws Exception {
        requireStaticBusybox();
        Artifact first = Prelude.build(ArtifactStore.open(tmp.resolve("a")));
        Artifact second = Prelude.build(ArtifactStore.open(tmp.resolve("b")));
        assertThat(second).isEqualTo(first);
    }

    @Test
    void refusesAMissingOrDynamicBusybox() throws Exception {
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));
        Path absent = tmp.resolve("busybox");
        assertThatThrownBy(() -> Prelude.build(store, absent))
                .isInstanceOf(Stage1Exception.class)
                .hasMessage(absent + ": no such file (install Debian's busybox-static, or pass --busybox)");

        Path dynamic = Path.of("/bin/ls");
        Optional<String> interpreter = StaticElf.interpreter(dynamic);
        assertThat(interpreter).as("/bin/ls is dynamically linked on Debian").isPresent();
        assertThatThrownBy(() -> Prelude.build(store, dynamic))
                .hasMessage("/bin/ls: dynamically linked (needs " + interpreter.get()
                        + "), but stage 1 has no libraries; use a static busybox (Debian busybox-static)");

        Path text = Files.writeString(tmp.resolve("script"), "#!/bin/sh\n");
        assertThatThrownBy(() -> Prelude.build(store, text)).hasMessageStartingWith(text + ": not a usable busybox");
    }

    @Test
    void aBusyboxForAnotherProcessorIsRefusedNamingThePackage() throws Exception {
        requireStaticBusybox();
        assertThat(StaticElf.machine(Prelude.DEFAULT_BUSYBOX)).as("Debian's amd64 busybox-static").isEqualTo(62);
        assertThatThrownBy(() -> Prelude.checkMachine(Prelude.DEFAULT_BUSYBOX, CpuArch.ARM64))
                .isInstanceOf(Stage1Exception.class)
                .hasMessage("/bin/busybox: built for another processor (ELF machine 62), but the kernel is arm64"
                        + " (machine 183); install busybox-static:arm64");
        Prelude.checkMachine(Prelude.DEFAULT_BUSYBOX, CpuArch.X86_64);
    }

    @Test
    void anArm64PreludeCarriesBusyboxStaticArm64() throws Exception {
        Path arm64 = CpuArch.ARM64.busyboxCandidates().getFirst();
        dev.pivot.testsupport.Require.file(arm64, "busybox-static:arm64 (scripts/fetch-boot-loaders.sh --arm64)");
        ArtifactStore store = ArtifactStore.open(tmp.resolve("store"));
        var prelude = Prelude.build(store, CpuArch.ARM64, new java.util.TreeMap<>(), java.util.Set.of());
        assertThat(StaticElf.machine(arm64)).isEqualTo(183);
        assertThat(prelude.size()).isPositive();
        assertThat(prelude.sha256()).isNotEqualTo(Prelude.build(store).sha256());
    }
}
