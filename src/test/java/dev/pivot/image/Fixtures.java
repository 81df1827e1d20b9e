package dev.pivot.image;

import dev.pivot.format.cpio.CpioWriter;
import dev.pivot.testsupport.Tools;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

/** Small initrds made with the real tools: GNU cpio, gzip, xz, zstd. */
final class Fixtures {

    private Fixtures() {
    }

    /** A stage-1-like uncompressed newc archive made by GNU cpio; returns its file. */
    static Path stage1Cpio(Path work, String name) throws Exception {
        Tools.require("cpio", "cpio");
        Path tree = Files.createDirectories(work.resolve(name + ".tree"));
        Files.createDirectories(tree.resolve("lib/modules/6.1.0"));
        Files.createDirectories(tree.resolve("etc"));
        Files.writeString(tree.resolve("init"), "#!/bin/sh\necho stage 1 of " + name + "\n");
        Files.writeString(tree.resolve("etc/fstab"), "tmpfs / tmpfs mode=0755 0 0\n");
        Random random = new Random(name.hashCode());
        for (String module : new String[] {"loop.ko.xz", "squashfs.ko.xz", "overlay.ko.xz"}) {
            byte[] data = new byte[1000 + random.nextInt(5000)];
            random.nextBytes(data);
            Files.write(tree.resolve("lib/modules/6.1.0").resolve(module), data);
        }
        Files.createSymbolicLink(tree.resolve("lib/modules/6.1.0/build"), Path.of("/nonexistent"));
        Path archive = work.resolve(name + ".cpio");
        Tools.sh(tree, "find . | LC_ALL=C sort | cpio -o -H newc --quiet > " + archive);
        return archive;
    }

    /** Entries GNU cpio lists in an (uncompressed) archive. */
    static int entryCount(Path archive) throws Exception {
        return (int) Tools.sh(archive.getParent(), "cpio -it --quiet < " + archive).lines().count();
    }

    /** Random bytes standing in for a squashfs (the splitter never looks inside it). */
    static Path fakeSquashfs(Path work, int size) throws IOException {
        byte[] data = new byte[size];
        new Random(size).nextBytes(data);
        data[0] = 'h';
        data[1] = 's';
        data[2] = 'q';
        data[3] = 's';
        Path file = work.resolve("squashfs-" + size + ".img");
        Files.write(file, data);
        return file;
    }

    /** A cpio holding only the root image, as nixpkgs' makeInitrdNG makes it, under GNU cpio. */
    static Path rootCpio(Path work, Path squashfs) throws Exception {
        Tools.require("cpio", "cpio");
        Path dir = Files.createDirectories(work.resolve("root.tree"));
        Files.copy(squashfs, dir.resolve(InitrdSplitter.ROOT_IMAGE));
        Path archive = work.resolve("root.cpio");
        Tools.sh(dir, "echo " + InitrdSplitter.ROOT_IMAGE + " | cpio -o -H newc --quiet > " + archive);
        return archive;
    }

    /** A root cpio whose entry name is exactly {@code name} ("./nix-store.squashfs", "/nix-store.squashfs"). */
    static Path rootCpioNamed(Path work, Path squashfs, String name) throws IOException {
        Path archive = work.resolve("root-named.cpio");
        String placeholder = name.startsWith("/") ? "_" + name.substring(1) : name;
        try (CpioWriter cpio = new CpioWriter(Files.newOutputStream(archive))) {
            cpio.file(placeholder, 0644, squashfs);
        }
        if (!placeholder.equals(name)) {
            // CpioWriter drops leading slashes like GNU cpio; write the slash in by hand (the name starts at 110).
            try (var channel = java.nio.channels.FileChannel.open(archive, StandardOpenOption.WRITE)) {
                channel.write(java.nio.ByteBuffer.wrap(new byte[] {'/'}), 110);
            }
        }
        return archive;
    }

    /** Compresses {@code file} with a shell command reading stdin ("gzip -9n", "xz --check=crc32", "cat"). */
    static Path compress(Path file, String command) throws Exception {
        Tools.require(command.split(" ")[0]);
        Path out = file.resolveSibling(file.getFileName() + "." + command.replaceAll("[^a-z0-9]", "_"));
        Tools.sh(file.getParent(), command + " < " + file + " > " + out);
        return out;
    }

    /** Concatenates parts into an initrd, with {@code padding} NULs after each part but the last. */
    static Path concat(Path initrd, int padding, Path... parts) throws IOException {
        try (OutputStream out = Files.newOutputStream(initrd)) {
            for (int i = 0; i < parts.length; i++) {
                Files.copy(parts[i], out);
                if (i < parts.length - 1) {
                    out.write(new byte[padding]);
                }
            }
        }
        return initrd;
    }
}
