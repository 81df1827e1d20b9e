package dev.pivot.stage1;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/** Reads just enough of an ELF file to tell whether it needs a program interpreter (is dynamically linked). */
final class StaticElf {

    private static final int PT_INTERP = 3;

    private StaticElf() {
    }

    /**
     * The program interpreter the executable asks for (e.g. /lib64/ld-linux-x86-64.so.2), or empty if it is
     * static. Throws if the file is not ELF.
     */
    static Optional<String> interpreter(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer header = read(channel, 0, 64);
            if (header.limit() < 52 || header.getInt(0) != 0x7f454c46) {
                throw new IOException(file + ": not an ELF executable");
            }
            boolean is64 = header.get(4) == 2;
            header.order(header.get(5) == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            long phoff = is64 ? header.getLong(0x20) : header.getInt(0x1c) & 0xffffffffL;
            int phentsize = header.getShort(is64 ? 0x36 : 0x2a) & 0xffff;
            int phnum = header.getShort(is64 ? 0x38 : 0x2c) & 0xffff;
            for (int i = 0; i < phnum; i++) {
                ByteBuffer ph = read(channel, phoff + (long) i * phentsize, phentsize).order(header.order());
                if (ph.limit() < phentsize) {
                    throw new IOException(file + ": truncated ELF program headers");
                }
                if (ph.getInt(0) == PT_INTERP) {
                    long offset = is64 ? ph.getLong(8) : ph.getInt(4) & 0xffffffffL;
                    long size = is64 ? ph.getLong(32) : ph.getInt(16) & 0xffffffffL;
                    ByteBuffer path = read(channel, offset, (int) Math.min(size, 4096));
                    String interp = StandardCharsets.US_ASCII.decode(path).toString();
                    int nul = interp.indexOf('\0');
                    return Optional.of(nul >= 0 ? interp.substring(0, nul) : interp);
                }
            }
            return Optional.empty();
        }
    }

    /** ELF's e_machine (62 x86-64, 183 aarch64). Throws if the file is not ELF. */
    static int machine(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer header = read(channel, 0, 20);
            if (header.limit() < 20 || header.getInt(0) != 0x7f454c46) {
                throw new IOException(file + ": not an ELF executable");
            }
            header.order(header.get(5) == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
            return header.getShort(18) & 0xffff;
        }
    }

    private static ByteBuffer read(FileChannel channel, long offset, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining() && channel.read(buffer, offset + buffer.position()) > 0) {
            // keep reading
        }
        return buffer.flip();
    }
}
