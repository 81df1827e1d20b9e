package dev.pivot.format.cpio;

import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CpioReaderTest {

    @TempDir
    Path tmp;

    @Test
    void readsArchivesMadeByGnuCpio() throws Exception {
        Tools.require("cpio", "cpio");
        Path tree = Files.createDirectories(tmp.resolve("tree/etc/deep"));
        Map<String, byte[]> files = new LinkedHashMap<>();
        Random random = new Random(3);
        for (int size : new int[] {0, 1, 2, 3, 4, 5, 511, 512, 513, 70_001}) {
            byte[] data = new byte[size];
            random.nextBytes(data);
            files.put("etc/deep/f" + size, data);
            Files.write(tmp.resolve("tree").resolve("etc/deep/f" + size), data);
        }
        Files.createSymbolicLink(tmp.resolve("tree/etc/link"), Path.of("deep/f5"));
        Path archive = tmp.resolve("gnu.cpio");
        Tools.sh(tmp.resolve("tree"), "find . | sort | cpio -o -H newc --quiet > " + archive);

        Map<String, byte[]> read = new LinkedHashMap<>();
        Map<String, CpioEntry> entries = new LinkedHashMap<>();
        try (CpioReader reader = new CpioReader(new BufferedInputStream(Files.newInputStream(archive)), "gnu.cpio")) {
            CpioEntry entry;
            while ((entry = reader.next()) != null) {
                entries.put(entry.path(), entry);
                if (entry.isRegularFile()) {
                    // Read only part of some bodies: next() must skip the rest.
                    read.put(entry.path(), entry.size() > 1000 ? null : reader.body().readAllBytes());
                }
            }
            assertThat(reader.position()).isLessThanOrEqualTo(Files.size(archive));
        }
        assertThat(entries.keySet()).contains(".", "etc", "etc/deep", "etc/link");
        assertThat(entries.get("etc").isDirectory()).isTrue();
        assertThat(entries.get("etc/link").isSymlink()).isTrue();
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            assertThat(entries.get(file.getKey()).size()).isEqualTo(file.getValue().length);
            if (read.get(file.getKey()) != null) {
                assertThat(read.get(file.getKey())).as(file.getKey()).isEqualTo(file.getValue());
            }
        }
    }

    @Test
    void bodyOfAGnuArchiveStreamsExactly() throws Exception {
        Tools.require("cpio", "cpio");
        byte[] data = new byte[300_001];
        new Random(9).nextBytes(data);
        Files.write(tmp.resolve("nix-store.squashfs"), data);
        Path archive = tmp.resolve("root.cpio");
        Tools.sh(tmp, "echo nix-store.squashfs | cpio -o -H newc --quiet > " + archive);
        try (CpioReader reader = new CpioReader(Files.newInputStream(archive), "root.cpio")) {
            CpioEntry entry = reader.next();
            assertThat(entry.name()).isEqualTo("nix-store.squashfs");
            try (InputStream body = reader.body()) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                byte[] buffer = new byte[4096];
                int n;
                while ((n = body.read(buffer)) > 0) {
                    out.write(buffer, 0, n);
                }
                assertThat(out.toByteArray()).isEqualTo(data);
            }
            assertThat(reader.next()).isNull();
        }
    }

    @Test
    void allArchivesReadsConcatenatedArchivesWithNulPadding() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (CpioWriter first = new CpioWriter(bytes)) {
            first.file("a", 0644, "A".getBytes(StandardCharsets.UTF_8));
        }
        bytes.write(new byte[512]);
        try (CpioWriter second = new CpioWriter(bytes)) {
            second.file("b", 0644, "B".getBytes(StandardCharsets.UTF_8));
        }
        bytes.write(new byte[12]);
        CpioReader reader = CpioReader.allArchives(new ByteArrayInputStream(bytes.toByteArray()), "two.cpio");
        assertThat(reader.next().name()).isEqualTo("a");
        assertThat(reader.next().name()).isEqualTo("b");
        assertThat(reader.next()).isNull();
        assertThat(reader.archives()).isEqualTo(2);

        CpioReader single = new CpioReader(new ByteArrayInputStream(bytes.toByteArray()), "two.cpio");
        assertThat(single.next().name()).isEqualTo("a");
        assertThat(single.next()).isNull();
    }

    @Test
    void nonCpioInputNamesTheFileAndTheMagic() {
        byte[] gzip = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3};
        CpioReader reader = new CpioReader(new ByteArrayInputStream(Arrays.copyOf(gzip, 200)), "/tmp/x/initrd");
        assertThatThrownBy(reader::next).isInstanceOf(CpioFormatException.class)
                .hasMessage("/tmp/x/initrd: not a cpio archive (magic 1f8b08000000)");

        CpioReader shortOne = new CpioReader(new ByteArrayInputStream("hello".getBytes()), "hello.txt");
        assertThatThrownBy(shortOne::next).hasMessageStartingWith("hello.txt: ");

        CpioReader empty = new CpioReader(new ByteArrayInputStream(new byte[0]), "empty");
        assertThatThrownBy(empty::next).hasMessage("empty: not a cpio archive (empty)");
    }

    @Test
    void truncatedArchiveIsReported() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (CpioWriter cpio = new CpioWriter(bytes)) {
            cpio.file("file", 0644, new byte[1000]);
        }
        byte[] cut = Arrays.copyOf(bytes.toByteArray(), 500);
        CpioReader reader = new CpioReader(new ByteArrayInputStream(cut), "cut.cpio");
        assertThat(reader.next().name()).isEqualTo("file");
        assertThatThrownBy(() -> reader.body().readAllBytes()).isInstanceOf(CpioFormatException.class)
                .hasMessageContaining("cut.cpio").hasMessageContaining("truncated");
    }
}
