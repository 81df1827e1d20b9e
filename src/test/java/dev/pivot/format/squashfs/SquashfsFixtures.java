package dev.pivot.format.squashfs;

import dev.pivot.testsupport.Tools;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;

/** Source trees with every kind of squashfs content, and images of them made by the real mksquashfs. */
final class SquashfsFixtures {

    static final String HELLO = "/abc-hello/bin/hello";
    static final int BIG_DIR_ENTRIES = 600;
    /** A UTF-8 name with spaces, where the JVM can name such files (its sun.jnu.encoding is UTF-8). */
    static final String ODD_NAME = "UTF-8".equalsIgnoreCase(System.getProperty("sun.jnu.encoding"))
            ? "naïve name ✓" : "name with spaces";

    private SquashfsFixtures() {
    }

    /**
     * A store-like tree: store paths at the root, a NixOS-style absolute symlink, relative and chained symlinks,
     * a dangling one and a loop, a file over several 4 KiB blocks, an empty file, a sparse file, a hard link,
     * a fifo, a socket and a directory of {@value #BIG_DIR_ENTRIES} entries.
     */
    static Path tree(Path work) throws IOException {
        Path src = Files.createDirectories(work.resolve("src"));
        Path hello = Files.createDirectories(src.resolve("abc-hello/bin")).resolve("hello");
        Files.writeString(hello, "#!/bin/sh\necho hello\n");
        Files.setPosixFilePermissions(hello, PosixFilePermissions.fromString("r-xr-xr-x"));
        Path system = Files.createDirectories(src.resolve("def-nixos-system-test"));
        Files.createSymbolicLink(system.resolve("init"), Path.of("/nix/store" + HELLO));
        Files.createSymbolicLink(system.resolve("sw"), Path.of("../abc-hello"));
        Files.createSymbolicLink(system.resolve("chain"), Path.of("sw/bin/hello"));
        Files.createSymbolicLink(system.resolve("dangling"), Path.of("/nix/store/zzz-missing/init"));
        Files.createSymbolicLink(system.resolve("loop-a"), Path.of("loop-b"));
        Files.createSymbolicLink(system.resolve("loop-b"), Path.of("loop-a"));
        Files.createSymbolicLink(src.resolve("init"), Path.of("def-nixos-system-test/init"));

        Path data = Files.createDirectories(src.resolve("data"));
        Random random = new Random(42);
        byte[] noise = new byte[3 * 4096 + 123];
        random.nextBytes(noise);
        Files.write(data.resolve("noise"), noise);
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 5 * 4096 + 7; i++) {
            text.append("line ").append(i).append(" of a compressible file\n");
        }
        Files.writeString(data.resolve("text"), text);
        byte[] exact = new byte[2 * 4096];
        random.nextBytes(exact);
        Files.write(data.resolve("two-blocks"), exact);
        Files.write(data.resolve("empty"), new byte[0]);
        Files.createLink(data.resolve("text-link"), data.resolve("text"));
        // Same bytes as text: mksquashfs stores them once, both inodes point at the same blocks and fragment.
        Files.writeString(data.resolve("text-copy"), text);
        Files.writeString(data.resolve(ODD_NAME), "utf-8 and spaces\n");
        // Sparse: data, a 3-block hole, data again, then a hole up to the end.
        try (var ch = Files.newByteChannel(data.resolve("sparse"), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap("start".getBytes(StandardCharsets.US_ASCII)));
            ch.position(4 * 4096);
            ch.write(java.nio.ByteBuffer.wrap(noise, 0, 5000));
            ch.truncate(12 * 4096 + 5);
        }
        try (var ch = Files.newByteChannel(data.resolve("sparse"), StandardOpenOption.WRITE)) {
            // truncate() cannot grow a file; extend it with a final byte.
            ch.position(12 * 4096 + 4);
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0}));
        }
        Path special = Files.createDirectories(src.resolve("special"));
        try (ServerSocketChannel socket = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            socket.bind(UnixDomainSocketAddress.of(special.resolve("socket")));
        }
        Path big = Files.createDirectories(src.resolve("big"));
        for (int i = 0; i < BIG_DIR_ENTRIES; i++) {
            Files.writeString(big.resolve(String.format("entry-with-a-rather-long-name-%04d", i)), "entry " + i + "\n");
        }
        try {
            Tools.sh(special, "mkfifo fifo");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return src;
    }

    /** Runs mksquashfs on {@code src} with the given options; the pseudo definition adds a char device. */
    static Path image(Path src, Path work, String name, String options) throws Exception {
        Tools.require("mksquashfs", "squashfs-tools");
        Path image = work.resolve(name + ".squashfs");
        Tools.sh(work, "mksquashfs " + src + " " + image + " -noappend -quiet -no-progress -all-time 1700000000 "
                + "-p 'special/null c 666 0 0 1 3' -p 'special/disk b 660 0 6 8 300' " + options + " >/dev/null");
        return image;
    }
}
