package dev.pivot.cli;

import dev.pivot.testsupport.CliRun;
import dev.pivot.format.cpio.CpioWriter;
import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** `pivot image kexec DIR`: the exact kexec lines, for the image alone and through a Pivot server. */
class ImageKexecCommandTest {

    static final String INIT = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-t-24.11/init";

    @TempDir
    Path tmp;


    private CliRun run(String... args) {
        String[] full = new String[args.length + 2];
        full[0] = "image";
        full[1] = "kexec";
        System.arraycopy(args, 0, full, 2, args.length);
        return CliRun.of(Main.commandLine(), full);
    }

    private Path netbootDir() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("result"));
        Files.write(dir.resolve("bzImage"), new byte[4096]);
        // A real (tiny) root image, so the image check `pivot serve` runs passes, as it must for kexec too.
        Path store = Files.createDirectories(tmp.resolve("store").resolve(INIT.substring("/nix/store/".length()))
                .getParent());
        Files.writeString(store.resolve("init"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(store.resolve("init"), PosixFilePermissions.fromString("r-xr-xr-x"));
        Tools.require("mksquashfs", "squashfs-tools");
        Tools.sh(tmp, "mksquashfs store root.squashfs -comp gzip -all-root -noappend -quiet -no-progress >/dev/null");
        byte[] squashfs = Files.readAllBytes(tmp.resolve("root.squashfs"));
        ByteArrayOutputStream initrd = new ByteArrayOutputStream();
        for (Object[] file : List.of(new Object[] {"init", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8)},
                new Object[] {"nix-store.squashfs", squashfs})) {
            ByteArrayOutputStream part = new ByteArrayOutputStream();
            try (OutputStream gz = new GZIPOutputStream(part); CpioWriter cpio = new CpioWriter(gz)) {
                cpio.file((String) file[0], 0755, (byte[]) file[1]);
                cpio.finish();
            }
            initrd.write(part.toByteArray());
        }
        Files.write(dir.resolve("initrd"), initrd.toByteArray());
        Files.writeString(dir.resolve("netboot.ipxe"), "#!ipxe\nkernel bzImage init=" + INIT
                + " initrd=initrd loglevel=4 ${cmdline}\ninitrd initrd\nboot\n");
        return dir;
    }

    @Test
    void withoutAServerItIsNixosOwnKexecBoot() throws Exception {
        Path dir = netbootDir();
        CliRun r = run(dir.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out().lines()).containsExactly("kexec --load " + dir.resolve("bzImage") + " --initrd="
                + dir.resolve("initrd") + " --append=\"init=" + INIT + " loglevel=4\"", "kexec -e");
    }

    @Test
    void throughAServerItFetchesTheArtifactsAndUsesTheContractCommandLine() throws Exception {
        Path dir = netbootDir();
        CliRun r = run(dir.toString(), "--server", "http://10.0.0.1:8080/", "--mac", "52-54-00-12-34-56",
                "--state", tmp.resolve("state").toString());
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("wget -O kernel 'http://10.0.0.1:8080/artifacts/")
                .endsWith("/bzImage?mac=52:54:00:12:34:56'"));
        assertThat(lines).contains("cat initrd pivot.cpio.gz > initrds", "kexec -e");
        String kexec = lines.stream().filter(l -> l.startsWith("kexec --load")).findFirst().orElseThrow();
        assertThat(kexec).startsWith("kexec --load kernel --initrd=initrds --append=\"rdinit=/pivot/init ")
                .contains("pivot.url=http://10.0.0.1:8080 ", "pivot.mac=52:54:00:12:34:56", "pivot.sha256=",
                        "init=" + INIT, "loglevel=4\"");
        assertThat(kexec.substring(kexec.indexOf("--append="))).doesNotContain("initrd=");
    }

    @Test
    void serverWithoutMacIsRefused() throws Exception {
        CliRun r = run(netbootDir().toString(), "--server", "http://10.0.0.1");
        assertThat(r.exit()).isNotZero();
        assertThat(r.err()).contains("--server and --mac go together");
    }
}
