package dev.pivot.format;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The dm-verity hash tree of an image (format version 1, sha256, 4096-byte data and hash blocks, no superblock),
 * as {@code veritysetup format --no-superblock} writes it: level 0 holds sha256(salt ‖ block) of every data block,
 * each higher level the digests of the level below's hash blocks, zero-padded to whole blocks; the levels are
 * stored top level first; the root hash is sha256(salt ‖ top block). The kernel's dm-verity checks every block it
 * reads against it, so an image read block by block (over NBD) is verified without a whole-image download.
 *
 * @param dataBlocks the 4096-byte data blocks covered (a tail shorter than a block is not)
 * @param rootHash   hex
 * @param salt       hex
 */
public record VerityTree(long dataBlocks, String rootHash, String salt) {

    public static final int BLOCK = 4096;
    private static final int DIGEST = 32;
    private static final int PER_BLOCK = BLOCK / DIGEST;

    /** The dm table line's middle: everything after the devices, for `dmsetup create`. */
    public String table(String dataDevice, String hashDevice) {
        return "0 " + dataBlocks * (BLOCK / 512) + " verity 1 " + dataDevice + " " + hashDevice + " " + BLOCK + " "
                + BLOCK + " " + dataBlocks + " 0 sha256 " + rootHash + " " + salt;
    }

    /** Reads {@code image} once and writes its hash tree to {@code out}. */
    public static VerityTree build(Path image, byte[] salt, OutputStream out) throws IOException {
        MessageDigest sha = sha256();
        List<ByteArrayBlocks> levels = new ArrayList<>();
        long dataBlocks;
        ByteArrayBlocks level0 = new ByteArrayBlocks();
        try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ)) {
            dataBlocks = in.size() / BLOCK;
            ByteBuffer buffer = ByteBuffer.allocate(BLOCK * 64);
            long done = 0;
            while (done < dataBlocks) {
                buffer.clear();
                int want = (int) Math.min(buffer.capacity(), (dataBlocks - done) * BLOCK);
                buffer.limit(want);
                while (buffer.hasRemaining()) {
                    if (in.read(buffer, done * BLOCK + buffer.position()) < 0) {
                        throw new IOException(image + " shrank while its hash tree was built");
                    }
                }
                for (int off = 0; off < want; off += BLOCK) {
                    sha.update(salt);
                    sha.update(buffer.array(), off, BLOCK);
                    level0.add(sha.digest());
                }
                done += want / BLOCK;
            }
        }
        if (dataBlocks < 2) {
            // dm-verity has no hash blocks at all for a single block: nothing a root image is
            throw new IOException(image + " is smaller than two " + BLOCK + "-byte blocks");
        }
        levels.add(level0);
        while (levels.getLast().blocks() > 1) {
            ByteArrayBlocks below = levels.getLast();
            ByteArrayBlocks up = new ByteArrayBlocks();
            for (int i = 0; i < below.blocks(); i++) {
                sha.update(salt);
                sha.update(below.block(i));
                up.add(sha.digest());
            }
            levels.add(up);
        }
        sha.update(salt);
        sha.update(levels.getLast().block(0));
        String root = HexFormat.of().formatHex(sha.digest());
        for (ByteArrayBlocks level : levels.reversed()) {
            for (int i = 0; i < level.blocks(); i++) {
                out.write(level.block(i));
            }
        }
        return new VerityTree(dataBlocks, root, salt.length == 0 ? "-" : HexFormat.of().formatHex(salt));
    }

    /** Digests packed into zero-padded hash blocks (a 4 GiB image's level 0 is 32 MiB, kept in memory). */
    private static final class ByteArrayBlocks {
        private final List<byte[]> blocks = new ArrayList<>();
        private int used = PER_BLOCK;

        void add(byte[] digest) {
            if (used == PER_BLOCK) {
                blocks.add(new byte[BLOCK]);
                used = 0;
            }
            System.arraycopy(digest, 0, blocks.getLast(), used * DIGEST, DIGEST);
            used++;
        }

        int blocks() {
            return blocks.size();
        }

        byte[] block(int i) {
            return blocks.get(i);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
