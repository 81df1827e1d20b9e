package dev.pivot.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `pivot serve --kernel K --initrd I --cmdline …`: every missing, unreadable or swapped file, and every option that
 * does not go with a kernel alone, is named in one line before anything starts (the state directory is not even
 * made).
 */
class ServeKernelCommandTest {

    @TempDir
    Path tmp;

    record Run(int exit, String err) {
    }

    private Run serve(List<String> args) {
        StringWriter err = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setErr(new PrintWriter(err, true));
        List<String> full = new ArrayList<>(List.of("serve"));
        full.addAll(args);
        full.addAll(List.of("--listen", "127.0.0.1", "--dhcp", "off", "--http-port", "0", "--tftp-port", "0",
                "--state", state().toString()));
        return new Run(cmd.execute(full.toArray(String[]::new)), err.toString());
    }

    private Path state() {
        return tmp.resolve("state");
    }

    /** An x86 boot-protocol header is all the check reads of a kernel. */
    private Path kernel() throws IOException {
        byte[] bytes = new byte[4096];
        System.arraycopy("HdrS".getBytes(), 0, bytes, 0x202, 4);
        return Files.write(tmp.resolve("linux"), bytes);
    }

    private Path initrd(String name) throws IOException {
        Path file = tmp.resolve(name);
        try (GZIPOutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write("070701 not really a cpio".getBytes());
        }
        return file;
    }

    private void assertRefused(Run run, String line) {
        assertThat(run.exit()).isEqualTo(ExitCodes.USAGE);
        assertThat(run.err().strip()).isEqualTo("pivot: " + line);
        assertThat(state()).as("nothing started: the state directory is not made").doesNotExist();
    }

    @Test
    void aMissingKernelIsNamed() throws IOException {
        Path missing = tmp.resolve("vmlinuz");
        assertRefused(serve(List.of("--kernel", missing.toString(), "--initrd", initrd("initrd.gz").toString())),
                "--kernel " + missing + ": no such file");
    }

    @Test
    void aMissingEmptyOrDirectoryInitrdIsNamed() throws IOException {
        Path k = kernel();
        Path missing = tmp.resolve("firmware.cpio.gz");
        assertRefused(serve(List.of("--kernel", k.toString(), "--initrd", initrd("initrd.gz").toString(),
                "--initrd", missing.toString())), "--initrd " + missing + ": no such file");
        Path empty = Files.createFile(tmp.resolve("empty.gz"));
        assertRefused(serve(List.of("--kernel", k.toString(), "--initrd", empty.toString())),
                "--initrd " + empty + ": empty file");
        Path dir = Files.createDirectories(tmp.resolve("d-i"));
        assertRefused(serve(List.of("--kernel", k.toString(), "--initrd", dir.toString())),
                "--initrd " + dir + ": is a directory, not a file");
    }

    @Test
    void kernelAndInitrdSwappedIsNamed() throws IOException {
        Path i = initrd("initrd.gz");
        assertRefused(serve(List.of("--kernel", i.toString(), "--initrd", kernel().toString())),
                "--kernel " + i + ": not a Linux kernel (no x86 setup header \"HdrS\", no arm64 Image header, no EFI"
                        + " \"MZ\"): is it an initrd?");
    }

    @Test
    void optionsThatNeedAnImageAreRefusedWithAKernel() throws IOException {
        Path k = kernel();
        Path i = initrd("initrd.gz");
        Path dir = Files.createDirectories(tmp.resolve("image"));
        assertRefused(serve(List.of(dir.toString(), "--kernel", k.toString())),
                "give DIR or --kernel, not both (" + dir + ", --kernel " + k + ")");
        assertRefused(serve(List.of(dir.toString(), "--initrd", i.toString())),
                "--initrd goes with --kernel (an image directory names its own)");
        assertRefused(serve(List.of(dir.toString(), "--cmdline", "quiet")),
                "--cmdline goes with --kernel (an image directory names its own)");
        assertRefused(serve(List.of("--kernel", k.toString(), "--init", "/sbin/init")),
                "--init is for images with a root image; with --kernel put init=… into --cmdline");
        assertRefused(serve(List.of("--kernel", k.toString(), "--stage1", "native")),
                "--stage1 native needs an image with a root image; --kernel " + k
                        + " is served as a kernel and initrds alone");
        assertRefused(serve(List.of()), "say what to serve: DIR, or --kernel FILE [--initrd FILE] [--cmdline PARAMS]");
    }

    @Test
    void aParameterIpxeWouldExpandIsNamed() throws IOException {
        assertRefused(serve(List.of("--kernel", kernel().toString(), "--cmdline", "console=ttyS0 ip=${ip}")),
                "--cmdline: '" + "ip=${ip}" + "' cannot be passed to the kernel through an iPXE script");
    }

    @Test
    void aProfilesMissingInitrdIsNamedWithItsProfile() throws IOException {
        Path k = kernel();
        Path missing = tmp.resolve("d-i/initrd.gz");
        Path profiles = Files.writeString(tmp.resolve("profiles.yaml"), """
                profiles:
                  installer:
                    kernel: linux
                    initrd: d-i/initrd.gz
                """);
        assertRefused(serve(List.of("--kernel", k.toString(), "--profiles", profiles.toString())),
                "profile installer: initrd " + missing + ": no such file");
    }
}
