package dev.pivot.format.squashfs;

import dev.pivot.testsupport.Tools;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Images made by mksquashfs, read back and compared with what unsquashfs lists and extracts. */
class SquashfsImageTest {

    @TempDir
    static Path work;
    static Path src;

    @BeforeAll
    static void makeTree() throws IOException {
        src = SquashfsFixtures.tree(work);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "-comp gzip -b 4096",
            "-comp xz -b 4096",
            "-comp zstd -b 4096",
            "-comp gzip -b 4096 -noI -noD -noF -noX",
            "-comp zstd -b 4096 -no-fragments",
            "-comp xz -b 4096 -always-use-fragments",
            "-comp xz -Xbcj x86",
            "-comp zstd -b 1M -no-exports",
    })
    void listsAndReadsLikeUnsquashfs(String options) throws Exception {
        Path image = SquashfsFixtures.image(src, work, options.replaceAll("[^a-z0-9]+", "_"), options);
        // Tools.sh returns the bytes as ISO-8859-1; names are UTF-8.
        String expected = new String(Tools.sh(work, "TZ=UTC unsquashfs -lln " + image)
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), java.nio.charset.StandardCharsets.UTF_8);
        Path extracted = work.resolve("x-" + image.getFileName());
        Tools.sh(work, "unsquashfs -no-progress -d " + extracted + " " + image + " >/dev/null");

        try (SquashfsImage sq = SquashfsImage.open(image)) {
            List<String> lines = new ArrayList<>();
            List<String> files = new ArrayList<>();
            walk(sq, sq.root(), "squashfs-root", lines, files);
            assertThat(String.join("\n", lines) + "\n").isEqualTo(expected);
            assertThat(files).hasSizeGreaterThan(SquashfsFixtures.BIG_DIR_ENTRIES);
            for (String file : files) {
                byte[] want = Files.readAllBytes(extracted.resolve(file));
                try (InputStream in = sq.open("/" + file)) {
                    assertThat(in.readAllBytes()).as(file).isEqualTo(want);
                }
            }
            assertThat(sq.readAll("/data/sparse")).isEqualTo(Files.readAllBytes(src.resolve("data/sparse")));
            assertThat(sq.readAll("/data/noise")).isEqualTo(Files.readAllBytes(src.resolve("data/noise")));
        }
    }

    @Test
    void catMatchesUnsquashfsCat() throws Exception {
        Path image = SquashfsFixtures.image(src, work, "cat", "-comp zstd -b 4096");
        try (SquashfsImage sq = SquashfsImage.open(image)) {
            for (String file : List.of("data/text", "data/noise", "data/sparse", "data/empty", "abc-hello/bin/hello",
                    "big/entry-with-a-rather-long-name-0599")) {
                Path cat = work.resolve("cat.out");
                Tools.sh(work, "unsquashfs -cat " + image + " " + file + " > " + cat);
                assertThat(sq.readAll("/" + file)).as(file).isEqualTo(Files.readAllBytes(cat));
            }
        }
    }

    @Test
    void readsSuperblockAndSpecialFiles() throws Exception {
        Path image = SquashfsFixtures.image(src, work, "special", "-comp xz -b 4096");
        try (SquashfsImage sq = SquashfsImage.open(image)) {
            Superblock sb = sq.superblock();
            assertThat(sb.blockSize()).isEqualTo(4096);
            assertThat(sb.blockLog()).isEqualTo(12);
            assertThat(sq.compression()).isEqualTo("xz");
            assertThat(sb.compressionName()).isEqualTo("xz");
            assertThat(sb.idCount()).isEqualTo(2);
            assertThat(sb.bytesUsed()).isLessThanOrEqualTo(Files.size(image));
            assertThat(sb.fragmentCount()).isPositive();
            assertThat(sb.exportTableStart()).isNotEqualTo(Superblock.ABSENT);

            Inode disk = sq.lookupNoFollow("/special/disk").orElseThrow();
            assertThat(disk).isEqualTo(new Inode.Device(disk.attributes(), true, 8, 300));
            assertThat(disk.attributes().gid()).isEqualTo(6);
            assertThat(disk.attributes().permissions()).isEqualTo(0660);
            Inode nul = sq.lookup("/special/null").orElseThrow();
            assertThat(nul).isInstanceOfSatisfying(Inode.Device.class, d -> {
                assertThat(d.block()).isFalse();
                assertThat(d.major()).isEqualTo(1);
                assertThat(d.minor()).isEqualTo(3);
            });
            assertThat(sq.lookup("/special/fifo").orElseThrow()).isInstanceOfSatisfying(Inode.Special.class,
                    s -> assertThat(s.socket()).isFalse());
            assertThat(sq.lookup("/special/socket").orElseThrow()).isInstanceOfSatisfying(Inode.Special.class,
                    s -> assertThat(s.socket()).isTrue());
            // A hard-linked file is an extended file inode (type 9) with its link count.
            Inode text = sq.lookup("/data/text-link").orElseThrow();
            assertThat(text.attributes().type()).isEqualTo(9);
            assertThat(text.attributes().linkCount()).isEqualTo(2);
            // A directory of 600 entries has an index: an extended directory inode (type 8).
            assertThat(sq.lookup("/big").orElseThrow().attributes().type()).isEqualTo(8);
            assertThat(sq.list("/big")).hasSize(SquashfsFixtures.BIG_DIR_ENTRIES);
            assertThat(sq.list("/big").getLast().name()).isEqualTo("entry-with-a-rather-long-name-0599");
            assertThat(new String(sq.readAll("/big/entry-with-a-rather-long-name-0321"))).isEqualTo("entry 321\n");
            assertThat(sq.lookup("/data/empty").orElseThrow()).isInstanceOfSatisfying(Inode.RegularFile.class,
                    f -> assertThat(f.size()).isZero());
            assertThat(sq.readAll("/data/empty")).isEmpty();
            assertThat(new String(sq.readAll("/data/" + SquashfsFixtures.ODD_NAME))).isEqualTo("utf-8 and spaces\n");
            Inode.RegularFile copy = sq.file("/data/text-copy");
            Inode.RegularFile original = sq.file("/data/text");
            assertThat(copy.blocksStart()).isEqualTo(original.blocksStart());
            assertThat(copy.attributes().number()).isNotEqualTo(original.attributes().number());
            // Zero blocks are stored as sparse (size 0) blocks, which only the extended file inode counts.
            assertThat(sq.lookup("/data/sparse").orElseThrow().attributes().type()).isEqualTo(9);
        }
        Path plain = SquashfsFixtures.image(src, work, "plain", "-comp gzip -b 4096 -noI -noD -noF -noX");
        try (SquashfsImage sq = SquashfsImage.open(plain)) {
            assertThat(sq.superblock().hasFlag(Superblock.UNCOMPRESSED_INODES)).isTrue();
            assertThat(sq.superblock().hasFlag(Superblock.UNCOMPRESSED_DATA)).isTrue();
            assertThat(sq.superblock().hasFlag(Superblock.UNCOMPRESSED_FRAGMENTS)).isTrue();
            assertThat(sq.readAll("/data/text")).isEqualTo(Files.readAllBytes(src.resolve("data/text")));
        }
    }

    @Test
    void followsNixStoreSymlinks() throws Exception {
        Path image = SquashfsFixtures.image(src, work, "links", "-comp zstd -b 4096");
        byte[] hello = Files.readAllBytes(src.resolve(SquashfsFixtures.HELLO.substring(1)));
        try (SquashfsImage sq = SquashfsImage.open(image)) {
            assertThat(sq.lookupNoFollow("/def-nixos-system-test/init").orElseThrow())
                    .isEqualTo(new Inode.Symlink(sq.lookupNoFollow("/def-nixos-system-test/init").get().attributes(),
                            "/nix/store" + SquashfsFixtures.HELLO));
            for (String path : List.of("/init", "/def-nixos-system-test/init", "/nix/store/def-nixos-system-test/init",
                    "/def-nixos-system-test/sw/bin/hello", "/def-nixos-system-test/chain", "/abc-hello/./bin/../bin/hello",
                    "/nix/store/init")) {
                SquashfsImage.Resolved r = sq.resolve(path, true);
                assertThat(r.realPath()).as(path).isEqualTo(SquashfsFixtures.HELLO);
                assertThat(r.inode()).as(path).isInstanceOf(Inode.RegularFile.class);
                assertThat(r.inode().executable()).isTrue();
                assertThat(r.inode().attributes().permissions()).isEqualTo(0555);
                assertThat(sq.readAll(path)).isEqualTo(hello);
            }
            assertThat(sq.list("/def-nixos-system-test/sw")).extracting(DirectoryEntry::name).containsExactly("bin");
            assertThat(sq.lookup("/")).contains(sq.root());

            SquashfsImage.Resolved dangling = sq.resolve("/def-nixos-system-test/dangling", true);
            assertThat(dangling.exists()).isFalse();
            assertThat(dangling.problem()).isEqualTo("no such file: /zzz-missing");
            assertThat(sq.lookupNoFollow("/def-nixos-system-test/dangling")).isPresent();
            assertThat(sq.lookup("/abc-hello/bin/hello/x")).isEmpty();
            assertThat(sq.resolve("/abc-hello/bin/hello/x", true).problem()).isEqualTo("not a directory: "
                    + SquashfsFixtures.HELLO);
            assertThat(sq.lookup("/nope")).isEmpty();

            assertThatThrownBy(() -> sq.lookup("/def-nixos-system-test/loop-a"))
                    .isInstanceOf(SquashfsException.class)
                    .hasMessageStartingWith(image + ": too many levels of symbolic links resolving "
                            + "/def-nixos-system-test/loop-a");
            assertThatThrownBy(() -> sq.list("/data/text")).isInstanceOf(SquashfsException.class)
                    .hasMessage(image + ": not a directory: /data/text");
            assertThatThrownBy(() -> sq.open("/data")).isInstanceOf(SquashfsException.class)
                    .hasMessage(image + ": not a regular file: /data");
            assertThatThrownBy(() -> sq.open("/missing")).isInstanceOf(SquashfsException.class)
                    .hasMessage(image + ": no such file: /missing");
        }
    }

    /** Prints each entry the way `unsquashfs -lln` does (TZ=UTC), depth first in listing order. */
    static void walk(SquashfsImage sq, Inode inode, String path, List<String> lines, List<String> files)
            throws IOException {
        lines.add(lsLine(inode, path));
        if (inode instanceof Inode.Directory dir) {
            for (DirectoryEntry e : sq.list(dir)) {
                walk(sq, sq.inode(e.inode()), path + "/" + e.name(), lines, files);
            }
        } else if (inode instanceof Inode.RegularFile) {
            files.add(path.substring("squashfs-root/".length()));
        }
    }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")
            .withZone(ZoneOffset.UTC);

    private static String lsLine(Inode inode, String path) {
        Inode.Attributes a = inode.attributes();
        String owner = a.uid() + "/" + a.gid();
        int pad = 25 - String.valueOf(a.uid()).length() - String.valueOf(a.gid()).length();
        String size = switch (inode) {
            case Inode.Directory d -> String.format("%" + pad + "d", d.listingSize());
            case Inode.RegularFile f -> String.format("%" + pad + "d", f.size());
            case Inode.Symlink s -> String.format("%" + pad + "d", s.target().getBytes().length);
            case Inode.Special s -> String.format("%" + pad + "d", 0);
            case Inode.Device d -> {
                // unsquashfs prints the encoded number's bits 8+ and 0–7, not major and minor.
                long dev = (d.minor() & 0xff) | ((long) d.major() << 8) | ((long) (d.minor() & ~0xff) << 12);
                yield String.format("%" + (pad - 7) + "s%3d,%3d", " ", dev >> 8, dev & 0xff);
            }
        };
        String line = modeString(inode) + " " + owner + " " + size + " " + TIME.format(Instant.ofEpochSecond(
                a.mtime())) + " " + path;
        return inode instanceof Inode.Symlink s ? line + " -> " + s.target() : line;
    }

    private static String modeString(Inode inode) {
        char type = switch (inode.fileType()) {
            case Inode.S_IFDIR -> 'd';
            case Inode.S_IFLNK -> 'l';
            case Inode.S_IFCHR -> 'c';
            case Inode.S_IFBLK -> 'b';
            case Inode.S_IFIFO -> 'p';
            case Inode.S_IFSOCK -> 's';
            default -> '-';
        };
        int p = inode.attributes().permissions();
        StringBuilder b = new StringBuilder().append(type);
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            b.append((p & (0400 >> i)) != 0 ? rwx.charAt(i) : '-');
        }
        if ((p & 04000) != 0) {
            b.setCharAt(3, (p & 0100) != 0 ? 's' : 'S');
        }
        if ((p & 02000) != 0) {
            b.setCharAt(6, (p & 010) != 0 ? 's' : 'S');
        }
        if ((p & 01000) != 0) {
            b.setCharAt(9, (p & 01) != 0 ? 't' : 'T');
        }
        return b.toString();
    }
}
