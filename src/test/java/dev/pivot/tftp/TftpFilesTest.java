package dev.pivot.tftp;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class TftpFilesTest {

    static final InetAddress CLIENT = InetAddress.getLoopbackAddress();

    @TempDir
    Path dir;
    Path first;
    Path second;
    TftpFiles files;

    @BeforeEach
    void roots() throws Exception {
        first = Files.createDirectories(dir.resolve("first"));
        second = Files.createDirectories(dir.resolve("second"));
        Files.writeString(dir.resolve("secret"), "outside");
        Files.writeString(first.resolve("undionly.kpxe"), "operator's");
        Files.writeString(second.resolve("undionly.kpxe"), "distro's");
        Files.writeString(second.resolve("ipxe.efi"), "efi");
        Files.createDirectories(first.resolve("pxelinux.cfg"));
        Files.writeString(first.resolve("pxelinux.cfg/default"), "DEFAULT linux");
        files = new TftpFiles(List.of(first, second), (name, client) ->
                name.equals("pxelinux.cfg/01-52-54-00-12-34-56") ? Optional.of(new byte[] {1, 2, 3})
                        : Optional.empty());
    }

    Path found(String name) {
        TftpFiles.Resolution r = files.resolve(name, CLIENT);
        assertThat(r).as(name).isInstanceOf(TftpFiles.Found.class);
        return ((TftpContent.FileContent) ((TftpFiles.Found) r).content()).path();
    }

    TftpFiles.Refused refused(String name) {
        TftpFiles.Resolution r = files.resolve(name, CLIENT);
        assertThat(r).as(name).isInstanceOf(TftpFiles.Refused.class);
        return (TftpFiles.Refused) r;
    }

    @Test
    void aMissingNameTheLoaderOnlyProbesForIsRefusedAsAProbeNotAFailure() {
        TftpFiles.Generator probes = new TftpFiles.Generator() {
            @Override
            public Optional<byte[]> generate(String name, InetAddress client) {
                return Optional.empty();
            }

            @Override
            public boolean probe(String name) {
                return name.equals("grub/x86_64-efi/fs.lst");
            }
        };
        files = new TftpFiles(List.of(first), TftpFiles.both(TftpFiles.Generator.NONE, probes));
        assertThat(refused("/grub/x86_64-efi/fs.lst")).isEqualTo(new TftpFiles.Refused(
                TftpPacket.Error.FILE_NOT_FOUND, "file not found", true));
        assertThat(refused("grub/x86_64-efi/http.mod").probe()).isFalse();
    }

    @Test
    void rootsAreSearchedInOrder() throws Exception {
        assertThat(found("undionly.kpxe")).isEqualTo(first.resolve("undionly.kpxe").toRealPath());
        assertThat(found("ipxe.efi")).isEqualTo(second.resolve("ipxe.efi").toRealPath());
        assertThat(found("pxelinux.cfg/default")).hasContent("DEFAULT linux");
    }

    @Test
    void oneLeadingSlashIsStripped() throws Exception {
        assertThat(found("/undionly.kpxe")).isEqualTo(first.resolve("undionly.kpxe").toRealPath());
    }

    @Test
    void generatedFilesComeAfterTheDisk() {
        TftpFiles.Resolution r = files.resolve("pxelinux.cfg/01-52-54-00-12-34-56", CLIENT);
        assertThat(r).isInstanceOf(TftpFiles.Found.class);
        assertThat(((TftpContent.MemoryContent) ((TftpFiles.Found) r).content()).bytes()).containsExactly(1, 2, 3);
    }

    @Test
    void missingFileIsNotFound() {
        assertThat(refused("nope.bin").errorCode()).isEqualTo(TftpPacket.Error.FILE_NOT_FOUND);
        // A directory is not a file to send.
        assertThat(refused("pxelinux.cfg").errorCode()).isEqualTo(TftpPacket.Error.FILE_NOT_FOUND);
    }

    @Test
    void dotDotSegmentsAreRefused() {
        for (String name : List.of("../secret", "pxelinux.cfg/../../secret", "..", "a/..", "/../secret")) {
            TftpFiles.Refused r = refused(name);
            assertThat(r.errorCode()).as(name).isEqualTo(TftpPacket.Error.ACCESS_VIOLATION);
            assertThat(r.reason()).as(name).contains("'..'");
        }
    }

    @Test
    void absolutePathsAfterTheStrippedSlashAreRefused() {
        TftpFiles.Refused r = refused("//etc/passwd");
        assertThat(r.errorCode()).isEqualTo(TftpPacket.Error.ACCESS_VIOLATION);
        assertThat(r.reason()).contains("absolute");
        assertThat(refused("/").reason()).contains("root directory");
    }

    @Test
    void backslashesAreRefused() {
        TftpFiles.Refused r = refused("..\\secret");
        assertThat(r.errorCode()).isEqualTo(TftpPacket.Error.ACCESS_VIOLATION);
        assertThat(r.reason()).contains("backslash");
        assertThat(refused("pxelinux.cfg\\default").reason()).contains("backslash");
    }

    @Test
    void nulBytesAndEmptyNamesAreRefused() {
        assertThat(refused("undionly.kpxe\0.txt").reason()).contains("NUL");
        assertThat(refused("").reason()).contains("empty");
    }

    @Test
    void symlinksResolvingOutsideTheRootAreRefused() throws Exception {
        Files.createSymbolicLink(first.resolve("escape"), dir.resolve("secret"));
        Files.createSymbolicLink(first.resolve("escape-dir"), dir);
        TftpFiles.Refused r = refused("escape");
        assertThat(r.errorCode()).isEqualTo(TftpPacket.Error.ACCESS_VIOLATION);
        // What goes back to the client names no path: where a symlink points is not the client's to learn.
        assertThat(r.reason()).isEqualTo("access violation").doesNotContain(dir.toString());
        assertThat(refused("escape-dir/secret").errorCode()).isEqualTo(TftpPacket.Error.ACCESS_VIOLATION);
    }

    @Test
    void symlinksStayingInsideTheRootAreFollowed() throws Exception {
        Files.createSymbolicLink(first.resolve("default.link"), first.resolve("pxelinux.cfg/default"));
        assertThat(found("default.link")).hasContent("DEFAULT linux");
    }

    @Test
    void thePackageRootFollowsTheDistrosSymlinksButTheOperatorRootStaysConfined() throws Exception {
        // Debian: /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi
        Path boot = Files.createDirectories(dir.resolve("boot"));
        Files.writeString(boot.resolve("ipxe.efi"), "distro efi");
        Path ipxe = Files.createDirectories(dir.resolve("ipxe"));
        Files.createSymbolicLink(ipxe.resolve("ipxe.efi"), boot.resolve("ipxe.efi"));
        Files.createSymbolicLink(first.resolve("escape"), dir.resolve("secret"));
        files = TftpFiles.withDistroIpxe(List.of(first), ipxe);

        assertThat(found("ipxe.efi")).hasContent("distro efi");
        assertThat(refused("escape").errorCode()).isEqualTo(TftpPacket.Error.ACCESS_VIOLATION);
        assertThat(refused("../secret").errorCode()).isEqualTo(TftpPacket.Error.ACCESS_VIOLATION);
    }

    @Test
    void printableEscapesControlBytes() {
        assertThat(TftpFiles.printable("a\nb\0c")).isEqualTo("a\\x0ab\\x00c");
    }
}
