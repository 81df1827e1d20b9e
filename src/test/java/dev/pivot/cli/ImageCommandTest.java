package dev.pivot.cli;

import dev.pivot.testsupport.CliRun;
import dev.pivot.testsupport.TestFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** `image inspect` on a NixOS-shaped netboot build made with cpio, gzip, zstd and mksquashfs. */
class ImageCommandTest {

    static final String RELEASE = "6.6.9";
    static final String SYSTEM = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-demo-24.05";

    @TempDir
    Path tmp;


    private CliRun run(String... args) {
        return CliRun.of(new CommandLine(new ImageCommand()), args);
    }

    /** bzImage (a setup header with the version), initrd = gzip stage 1 + zstd cpio of the squashfs, netboot.ipxe. */
    private Path netbootDir(List<String> initrdModules) throws Exception {
        Tools.require("mksquashfs", "squashfs-tools");
        Tools.require("cpio", "cpio");
        Tools.require("zstd", "zstd");
        Path dir = Files.createDirectories(tmp.resolve("result"));

        byte[] kernel = new byte[0x3000];
        new Random(3).nextBytes(kernel);
        ByteBuffer b = ByteBuffer.wrap(kernel).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x202, "HdrS".getBytes(StandardCharsets.US_ASCII), 0, 4).putShort(0x20E, (short) 0x0E00);
        byte[] version = (RELEASE + " (nixbld@localhost) #1-NixOS SMP\0").getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(version, 0, kernel, 0x1000, version.length);
        Files.write(dir.resolve("bzImage"), kernel);

        Path stage1 = Files.createDirectories(tmp.resolve("stage1"));
        Files.writeString(stage1.resolve("init"), "#!/bin/sh\n");
        for (String module : initrdModules) {
            Path file = stage1.resolve("lib/modules/" + RELEASE + "/" + module);
            Files.createDirectories(file.getParent());
            Files.write(file, new byte[] {7, 7, 7});
        }
        // What depmod writes (it cannot read these stand-in modules): each module and its (no) dependencies.
        Path moduleDir = Files.createDirectories(stage1.resolve("lib/modules/" + RELEASE));
        Files.writeString(moduleDir.resolve("modules.dep"), String.join(":\n", initrdModules) + ":\n");
        Files.writeString(moduleDir.resolve("modules.alias"), "alias virtio:d00000001v* virtio_net\n");
        Tools.sh(stage1, "find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9n > " + tmp.resolve("stage1.gz"));

        Path store = Files.createDirectories(tmp.resolve("store"));
        Path init = Files.createDirectories(store.resolve(SYSTEM.substring("/nix/store/".length()))).resolve("init");
        Files.writeString(init, "#!/bin/sh\necho stage 2\n");
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path modules = Files.createDirectories(store.resolve("ffffffffffffffffffffffffffffffff-linux-" + RELEASE
                + "-modules/lib/modules/" + RELEASE + "/kernel/drivers/net/ethernet/intel/e1000"));
        Files.write(modules.resolve("e1000.ko.xz"), new byte[] {1});
        // A NixOS store has every module; nbd is the one NBD boots take from it.
        Path block = Files.createDirectories(modules.resolve("../../../../block").normalize());
        Files.write(block.resolve("nbd.ko.xz"), new byte[] {1});
        Path squashfs = Files.createDirectories(tmp.resolve("root")).resolve("nix-store.squashfs");
        Tools.sh(tmp, "mksquashfs " + store + " " + squashfs + " -comp xz -noappend -quiet -no-progress >/dev/null");
        Tools.sh(squashfs.getParent(), "echo nix-store.squashfs | cpio -o -H newc --quiet | zstd -19 -q > "
                + tmp.resolve("root.zst"));
        Tools.sh(tmp, "cat stage1.gz root.zst > " + dir.resolve("initrd"));
        Files.writeString(dir.resolve("netboot.ipxe"), "#!ipxe\nkernel bzImage init=" + SYSTEM
                + "/init initrd=initrd loglevel=4 console=ttyS0,115200 ${cmdline}\ninitrd initrd\nboot\n");
        return dir;
    }

    private static final List<String> GOOD = List.of("kernel/drivers/block/loop.ko.xz", "kernel/fs/squashfs/squashfs.ko.xz",
            "kernel/fs/overlayfs/overlay.ko.xz", "kernel/net/packet/af_packet.ko.xz",
            "kernel/drivers/net/virtio_net.ko.xz");

    @Test
    void inspectsAGoodBuildAsJson() throws Exception {
        Path dir = netbootDir(GOOD);
        CliRun run = run("inspect", dir.toString(), "--json");
        assertThat(run.err()).isEmpty();
        assertThat(run.exit()).isZero();

        JsonNode json = new ObjectMapper().readTree(run.out());
        assertThat(json.get("ok").asBoolean()).isTrue();
        assertThat(json.get("findings")).isEmpty();
        assertThat(json.at("/kernel/release").asText()).isEqualTo(RELEASE);
        assertThat(json.at("/kernel/version").asText()).isEqualTo(RELEASE + " (nixbld@localhost) #1-NixOS SMP");
        assertThat(json.at("/kernel/sha256").asText()).isEqualTo(TestFiles.sha256(dir.resolve("bzImage")));
        assertThat(json.get("init").asText()).isEqualTo(SYSTEM + "/init");
        assertThat(json.get("initResolved").asText()).isEqualTo(SYSTEM + "/init");
        assertThat(json.get("kernelParams")).extracting(JsonNode::asText)
                .containsExactly("loglevel=4", "console=ttyS0,115200");

        JsonNode parts = json.at("/initrd/parts");
        assertThat(parts).hasSize(2);
        long stage1Length = Files.size(tmp.resolve("stage1.gz"));
        assertThat(parts.get(0).get("compression").asText()).isEqualTo("gzip");
        assertThat(parts.get(0).get("start").asLong()).isZero();
        assertThat(parts.get(0).get("end").asLong()).isEqualTo(stage1Length);
        assertThat(parts.get(0).get("entries").asInt()).isEqualTo(Tools.sh(tmp,
                "gzip -dc stage1.gz | cpio -it --quiet").lines().count());
        assertThat(parts.get(0).get("rootImage").asBoolean()).isFalse();
        assertThat(parts.get(1).get("compression").asText()).isEqualTo("zstd");
        assertThat(parts.get(1).get("start").asLong()).isEqualTo(stage1Length);
        assertThat(parts.get(1).get("end").asLong()).isEqualTo(Files.size(dir.resolve("initrd")));
        assertThat(parts.get(1).get("entries").asInt()).isEqualTo(1);
        assertThat(parts.get(1).get("rootImage").asBoolean()).isTrue();

        Path squashfs = tmp.resolve("root/nix-store.squashfs");
        assertThat(json.at("/rootImage/size").asLong()).isEqualTo(Files.size(squashfs));
        assertThat(json.at("/rootImage/sha256").asText()).isEqualTo(TestFiles.sha256(squashfs));
        assertThat(json.get("modules")).hasSize(2);
        assertThat(json.at("/modules/0/place").asText()).isEqualTo("initrd");
        assertThat(json.at("/modules/0/loadable").asInt()).isEqualTo(GOOD.size());
        assertThat(json.at("/modules/0/ethernetDrivers/0").asText()).isEqualTo("virtio_net");
        assertThat(json.at("/modules/1/ethernetDrivers/0").asText()).isEqualTo("e1000");
        assertThat(json.at("/nbd/modules/nbd").asText()).isEqualTo("root image");
        assertThat(json.at("/nbd/modules/loop").asText()).isEqualTo("initrd");
        assertThat(json.at("/nbd/modules/squashfs").asText()).isEqualTo("initrd");
        assertThat(json.at("/nbd/modules/dm_verity").asText()).isEqualTo("missing");
        assertThat(json.at("/nbd/bootsOverNbd").asBoolean()).isTrue();
        assertThat(json.at("/nbd/verity").asBoolean()).isFalse();
        List<String> notes = new java.util.ArrayList<>();
        json.at("/nbd/notes").forEach(n -> notes.add(n.asText()));
        assertThat(notes).anyMatch(n -> n.startsWith("without dm-verity, blocks read over NBD are not checked"));
        if (json.at("/rootImage/size").asLong() % 4096 != 0) {
            assertThat(notes).anyMatch(n -> n.contains("not a whole number of 4096-byte blocks"));
        }
        // Without --state the import went to a temporary directory that is gone again.
        try (Stream<Path> leftovers = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            assertThat(leftovers.filter(p -> p.getFileName().toString().startsWith("pivot-inspect-"))
                    .filter(p -> p.toFile().lastModified() > System.currentTimeMillis() - 60_000)).isEmpty();
        }
    }

    @Test
    void aMissingEthernetDriverFailsWithTheFixInPlainWords() throws Exception {
        Path dir = netbootDir(GOOD.subList(0, 4));
        Path state = tmp.resolve("state");
        CliRun run = run("inspect", dir.toString(), "--state", state.toString());
        assertThat(run.exit()).isEqualTo(ImageCommand.CHECK_FAILED);
        assertThat(run.out())
                .contains("kernel       bzImage, 12,288 bytes, sha256 " + TestFiles.sha256(dir.resolve("bzImage")))
                .contains("  version    " + RELEASE + " (nixbld@localhost) #1-NixOS SMP")
                .contains("  part 1     gzip cpio, ")
                .contains("  part 2     zstd cpio, 1 entry, bytes " + Files.size(tmp.resolve("stage1.gz")) + "-"
                        + Files.size(dir.resolve("initrd")) + " (the root image, served on its own)")
                .contains("init=        " + SYSTEM + "/init")
                .contains("params       loglevel=4 console=ttyS0,115200")
                .contains("check        FAILED: 1 error")
                .contains("  ERROR   ethernet: no Ethernet driver in the initrd: add your NIC's module to "
                        + "boot.initrd.availableKernelModules (found in the image's store: e1000)");
        // --state keeps the imported artifacts where `pivot serve --state` looks for them.
        try (Stream<Path> objects = Files.list(state.resolve("artifacts/objects"))) {
            assertThat(objects.map(p -> p.getFileName().toString()))
                    .contains(TestFiles.sha256(tmp.resolve("root/nix-store.squashfs")), TestFiles.sha256(dir.resolve("bzImage")));
        }
    }

    @Test
    void withoutSubcommandItPrintsUsage() {
        CliRun run = run();
        assertThat(run.exit()).isZero();
        assertThat(run.out()).contains("inspect");
    }

    /** A generic image: the same kernel and stage 1, and a whole root file system with merged /usr. */
    private Path genericDir() throws Exception {
        Path netboot = netbootDir(GOOD);
        Path dir = Files.createDirectories(tmp.resolve("generic"));
        Files.copy(netboot.resolve("bzImage"), dir.resolve("vmlinuz"));
        Files.copy(tmp.resolve("stage1.gz"), dir.resolve("initrd"));
        Path root = Files.createDirectories(tmp.resolve("whole-root"));
        Path init = Files.createDirectories(root.resolve("sbin")).resolve("init");
        Files.writeString(init, "#!/bin/sh\n");
        Files.setPosixFilePermissions(init, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path nic = Files.createDirectories(root.resolve("usr/lib/modules/" + RELEASE
                + "/kernel/drivers/net/ethernet/intel/e1000"));
        Files.write(nic.resolve("e1000.ko"), new byte[] {1});
        Files.createSymbolicLink(root.resolve("lib"), Path.of("usr/lib"));
        Tools.sh(tmp, "mksquashfs " + root + " " + dir.resolve("root.squashfs")
                + " -comp gzip -noappend -quiet -no-progress >/dev/null");
        return dir;
    }

    @Test
    void inspectsAGenericImageInItsOwnTerms() throws Exception {
        Path dir = genericDir();
        CliRun run = run("inspect", dir.toString(), "--json");
        assertThat(run.err()).isEmpty();
        assertThat(run.exit()).isZero();
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertThat(json.get("kind").asText()).isEqualTo("generic");
        assertThat(json.get("findings")).as("no NixOS warning about init= outside the store").isEmpty();
        assertThat(json.get("init").asText()).isEqualTo("/sbin/init");
        assertThat(json.get("initResolved").asText()).isEqualTo("/sbin/init");
        assertThat(json.at("/rootImage/name").asText()).isEqualTo("root.squashfs");
        assertThat(json.at("/modules/1/place").asText()).isEqualTo("root image");
        assertThat(json.at("/modules/1/location").asText()).isEqualTo("/lib/modules/" + RELEASE);
        assertThat(json.at("/modules/1/ethernetDrivers/0").asText()).isEqualTo("e1000");

        CliRun text = run("inspect", dir.toString());
        assertThat(text.out()).contains("(generic image: a whole root file system)").contains("check        OK\n")
                .doesNotContain("/nix/store");
    }

    @Test
    void inspectsAKernelAloneFromItsPivotYaml() throws Exception {
        Path netboot = netbootDir(GOOD);
        Path dir = Files.createDirectories(tmp.resolve("d-i"));
        Files.copy(netboot.resolve("bzImage"), dir.resolve("linux"));
        Files.copy(tmp.resolve("stage1.gz"), dir.resolve("initrd.gz"));
        Files.writeString(dir.resolve("pivot.yaml"), "cmdline: console=ttyS0,115200 priority=low\n");
        CliRun run = run("inspect", dir.toString(), "--json");
        assertThat(run.err()).isEmpty();
        assertThat(run.exit()).isZero();
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertThat(json.get("kind").asText()).isEqualTo("kernel");
        assertThat(json.at("/kernel/release").asText()).isEqualTo(RELEASE);
        assertThat(json.at("/kernel/sha256").asText()).isEqualTo(TestFiles.sha256(dir.resolve("linux")));
        assertThat(json.get("initrds")).hasSize(1);
        assertThat(json.at("/initrds/0/parts/0/compression").asText()).isEqualTo("gzip");
        assertThat(json.get("rootImage").isNull()).isTrue();
        assertThat(json.get("kernelParams")).extracting(JsonNode::asText)
                .containsExactly("console=ttyS0,115200", "priority=low");

        CliRun text = run("inspect", dir.toString());
        assertThat(text.out()).contains("a kernel and initrds alone, served without Pivot's stage 1")
                .contains("cmdline      console=ttyS0,115200 priority=low");
    }
}
