package dev.pivot.format.cpio;

import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CpioWriterTest {

    @TempDir
    Path tmp;

    private byte[] sample(Path bigFile) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (CpioWriter cpio = new CpioWriter(bytes)) {
            cpio.directory("/pivot", 0755);
            cpio.directory("dev", 0755);
            cpio.charDevice("/dev/console", 0600, 5, 1);
            cpio.file("pivot/init", 0755, "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8));
            cpio.file("pivot/odd", 0644, new byte[] {1, 2, 3, 4, 5});
            cpio.file("pivot/empty", 0600, new byte[0]);
            cpio.file("pivot/big", 0644, bigFile);
            cpio.symlink("pivot/sh", "busybox");
        }
        return bytes.toByteArray();
    }

    private Path bigFile() throws IOException {
        byte[] data = new byte[200_003];
        new Random(7).nextBytes(data);
        Path file = tmp.resolve("big.bin");
        Files.write(file, data);
        return file;
    }

    @Test
    void roundTripThroughTheReader() throws IOException {
        Path big = bigFile();
        byte[] archive = sample(big);
        assertThat(archive.length % 4).isZero();

        CpioReader reader = new CpioReader(new ByteArrayInputStream(archive), "sample.cpio");
        List<CpioEntry> entries = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        CpioEntry entry;
        while ((entry = reader.next()) != null) {
            entries.add(entry);
            bodies.add(reader.body().readAllBytes());
        }
        assertThat(reader.position()).isEqualTo(archive.length);
        assertThat(reader.archives()).isEqualTo(1);
        assertThat(entries).extracting(CpioEntry::name).containsExactly("pivot", "dev", "dev/console", "pivot/init",
                "pivot/odd", "pivot/empty", "pivot/big", "pivot/sh");
        assertThat(entries.get(0).isDirectory()).isTrue();
        assertThat(entries.get(0).permissions()).isEqualTo(0755);
        CpioEntry console = entries.get(2);
        assertThat(console.isCharDevice()).isTrue();
        assertThat(console.rdevMajor()).isEqualTo(5);
        assertThat(console.rdevMinor()).isEqualTo(1);
        assertThat(console.permissions()).isEqualTo(0600);
        assertThat(new String(bodies.get(3), StandardCharsets.UTF_8)).isEqualTo("#!/bin/sh\necho hi\n");
        assertThat(entries.get(3).permissions()).isEqualTo(0755);
        assertThat(bodies.get(4)).containsExactly(1, 2, 3, 4, 5);
        assertThat(bodies.get(5)).isEmpty();
        assertThat(bodies.get(6)).isEqualTo(Files.readAllBytes(big));
        assertThat(entries.get(7).isSymlink()).isTrue();
        assertThat(new String(bodies.get(7), StandardCharsets.UTF_8)).isEqualTo("busybox");
        assertThat(entries).allSatisfy(e -> assertThat(e.mtime()).isZero());
    }

    @Test
    void sameInputsGiveTheSameBytes() throws IOException {
        Path big = bigFile();
        assertThat(sample(big)).isEqualTo(sample(big));
    }

    @Test
    void gnuCpioExtractsWhatTheWriterWrote() throws Exception {
        Tools.require("cpio", "cpio");
        Path big = bigFile();
        Path archive = tmp.resolve("sample.cpio");
        Files.write(archive, sample(big));
        Path out = Files.createDirectory(tmp.resolve("out"));

        String listing = Tools.sh(out, "cpio -itv < " + archive + " 2>/dev/null");
        assertThat(listing).containsPattern("crw------- +1 root +root +5, +1 .* dev/console");
        assertThat(listing).containsPattern("lrwxrwxrwx .* pivot/sh -> busybox");

        // Extract everything but the device node (mknod needs root; the listing checked it).
        Tools.sh(out, "cpio -idm --quiet --no-absolute-filenames -f 'dev/console' < " + archive);
        assertThat(Files.readString(out.resolve("pivot/init"))).isEqualTo("#!/bin/sh\necho hi\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("pivot/init"))))
                .isEqualTo("rwxr-xr-x");
        assertThat(Files.readAllBytes(out.resolve("pivot/odd"))).containsExactly(1, 2, 3, 4, 5);
        assertThat(Files.size(out.resolve("pivot/empty"))).isZero();
        assertThat(Files.readAllBytes(out.resolve("pivot/big"))).isEqualTo(Files.readAllBytes(big));
        assertThat(Files.readSymbolicLink(out.resolve("pivot/sh"))).isEqualTo(Path.of("busybox"));
        assertThat(Files.getLastModifiedTime(out.resolve("pivot/odd")).toMillis()).isZero();
    }

    @Test
    void refusesFilesNewcCannotHold() throws IOException {
        Path sparse = tmp.resolve("huge.squashfs");
        try (RandomAccessFile file = new RandomAccessFile(sparse.toFile(), "rw")) {
            file.setLength(CpioWriter.MAX_FILE_SIZE + 1);
        }
        CpioWriter cpio = new CpioWriter(new ByteArrayOutputStream());
        assertThatThrownBy(() -> cpio.file("nix-store.squashfs", 0644, sparse))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nix-store.squashfs")
                .hasMessageContaining("4 GiB");
    }

    @Test
    void refusesEntriesAfterTheTrailer() throws IOException {
        CpioWriter cpio = new CpioWriter(new ByteArrayOutputStream());
        cpio.finish();
        assertThatThrownBy(() -> cpio.directory("late", 0755)).isInstanceOf(IllegalStateException.class);
    }
}
