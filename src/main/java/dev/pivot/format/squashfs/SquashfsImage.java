package dev.pivot.format.squashfs;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A squashfs 4.0 image, read in place: positional reads on one {@link FileChannel}, a small cache of decompressed
 * metadata and fragment blocks, never the whole image in memory. Safe to use from several threads.
 *
 * <p>Paths are absolute inside the image ("/abc-foo/bin/sh"). A NixOS root image holds the store paths at its
 * root and is mounted at /nix/store, so when the image has no /nix/store of its own, a path or absolute symlink
 * target starting with /nix/store/ is taken relative to the image root.
 */
public final class SquashfsImage implements AutoCloseable {

    /** Linux's MAXSYMLINKS. */
    public static final int MAX_SYMLINKS = 40;
    /** {@link #readAll} refuses files larger than this. */
    public static final int READ_ALL_LIMIT = 16 * 1024 * 1024;
    static final int METADATA_SIZE = 8192;
    private static final String NIX_STORE = "/nix/store";
    private static final int FRAGMENTS_PER_BLOCK = METADATA_SIZE / 16;
    private static final int IDS_PER_BLOCK = METADATA_SIZE / 4;

    /** A decompressed metadata block; {@code next} is the absolute offset of the block after it. */
    record MetadataBlock(byte[] data, int length, long next) {
    }

    private final Path path;
    private final String name;
    private final FileChannel channel;
    private final long fileSize;
    private final Superblock superblock;
    private final Compressor compressor;
    private final long directoryTableEnd;
    private final Map<Long, MetadataBlock> metadataCache = lruCache(128);
    private final Map<Long, byte[]> fragmentCache = lruCache(8);
    private final Map<Long, Long> idCache = lruCache(256);
    private volatile Boolean storeAtRoot;

    private SquashfsImage(Path path, FileChannel channel, long fileSize, Superblock superblock,
                          Compressor compressor) {
        this.path = path;
        this.name = path.toString();
        this.channel = channel;
        this.fileSize = fileSize;
        this.superblock = superblock;
        this.compressor = compressor;
        this.directoryTableEnd = nextTableStart(superblock, superblock.directoryTableStart());
    }

    /** Opens an image and checks its superblock; the tables are read when first needed. */
    public static SquashfsImage open(Path file) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SquashfsException(file + ": no such file");
        } catch (IOException e) {
            throw new SquashfsException(file + ": cannot open: " + e.getMessage(), e);
        }
        try {
            long size = channel.size();
            String name = file.toString();
            if (size < Superblock.SIZE) {
                throw new SquashfsException(name + ": truncated: " + size + " bytes, less than a squashfs superblock ("
                        + Superblock.SIZE + " bytes)");
            }
            byte[] head = new byte[Superblock.SIZE];
            readAt(channel, 0, head, Superblock.SIZE);
            int magic = ByteBuffer.wrap(head, 0, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
            if (magic != Superblock.MAGIC) {
                if (magic == Integer.reverseBytes(Superblock.MAGIC)) {
                    throw new SquashfsException(name + ": big-endian squashfs (version 3 or older) is not supported");
                }
                throw new SquashfsException(name + ": not a squashfs image (no \"hsqs\" magic at offset 0)");
            }
            Superblock sb = Superblock.decode(head);
            check(sb, size, name);
            Compressor compressor = Compressor.forId(sb.compressionId(), name);
            return new SquashfsImage(file, channel, size, sb, compressor);
        } catch (IOException | RuntimeException e) {
            channel.close();
            if (e instanceof SquashfsException se) {
                throw se;
            }
            throw new SquashfsException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static void check(Superblock sb, long fileSize, String name) throws SquashfsException {
        if (sb.versionMajor() != 4 || sb.versionMinor() != 0) {
            throw new SquashfsException(name + ": squashfs version " + sb.versionMajor() + "." + sb.versionMinor()
                    + " is not supported (only 4.0)");
        }
        int blockSize = sb.blockSize();
        if (blockSize < 4096 || blockSize > 1024 * 1024 || Integer.bitCount(blockSize) != 1
                || 1 << sb.blockLog() != blockSize) {
            throw new SquashfsException(name + ": corrupt superblock: block size " + Integer.toUnsignedString(blockSize)
                    + " with block log " + sb.blockLog() + " (must be a power of two from 4 KiB to 1 MiB)");
        }
        // Table starts in the order mksquashfs writes them; the absent ones are skipped.
        String[] names = {"inode table", "directory table", "fragment table", "export table", "id table",
                "xattr table"};
        long[] starts = {sb.inodeTableStart(), sb.directoryTableStart(),
                sb.fragmentCount() == 0 ? Superblock.ABSENT : sb.fragmentTableStart(), sb.exportTableStart(),
                sb.idTableStart(), sb.xattrTableStart()};
        for (int i = 0; i < starts.length; i++) {
            if (starts[i] != Superblock.ABSENT && Long.compareUnsigned(starts[i], sb.bytesUsed()) >= 0) {
                throw new SquashfsException(name + ": corrupt superblock: " + names[i] + " at "
                        + Long.toUnsignedString(starts[i]) + " is past the image's end ("
                        + Long.toUnsignedString(sb.bytesUsed()) + " bytes used)");
            }
        }
        for (int i = 0; i < starts.length; i++) {
            if (starts[i] != Superblock.ABSENT && Long.compareUnsigned(starts[i], fileSize) >= 0) {
                throw new SquashfsException(name + ": truncated: " + names[i] + " at "
                        + Long.toUnsignedString(starts[i]) + " past end of file (" + fileSize + " bytes)");
            }
        }
        if (Long.compareUnsigned(sb.bytesUsed(), fileSize) > 0) {
            throw new SquashfsException(name + ": truncated: the superblock says the image is " + 
                    Long.toUnsignedString(sb.bytesUsed()) + " bytes, the file has " + fileSize);
        }
        if (sb.inodeTableStart() < Superblock.SIZE || sb.directoryTableStart() <= sb.inodeTableStart()) {
            throw new SquashfsException(name + ": corrupt superblock: inode table at " + sb.inodeTableStart()
                    + ", directory table at " + sb.directoryTableStart());
        }
        if (sb.idCount() == 0 || sb.idTableStart() == Superblock.ABSENT) {
            throw new SquashfsException(name + ": corrupt superblock: no id table");
        }
        long rootBlock = sb.rootInode() >>> 16;
        if (rootBlock >= sb.directoryTableStart() - sb.inodeTableStart() || (sb.rootInode() & 0xffff) >= METADATA_SIZE) {
            throw new SquashfsException(name + ": corrupt superblock: root inode reference "
                    + Long.toHexString(sb.rootInode()) + " is outside the inode table");
        }
    }

    /** The start of the first table after {@code start}: an upper bound for where the table at start ends. */
    private static long nextTableStart(Superblock sb, long start) {
        long end = sb.bytesUsed();
        for (long t : new long[] {sb.inodeTableStart(), sb.directoryTableStart(), sb.fragmentTableStart(),
                sb.exportTableStart(), sb.idTableStart(), sb.xattrTableStart()}) {
            if (t != Superblock.ABSENT && t > start && t < end) {
                end = t;
            }
        }
        return end;
    }

    public Path path() {
        return path;
    }

    public Superblock superblock() {
        return superblock;
    }

    /** "gzip", "xz" or "zstd". */
    public String compression() {
        return compressor.label();
    }

    public Inode.Directory root() throws IOException {
        if (inode(superblock.rootInode()) instanceof Inode.Directory dir) {
            return dir;
        }
        throw corrupt("the root inode is not a directory");
    }

    // ---- paths ---------------------------------------------------------------------------------------------

    /**
     * The outcome of resolving a path.
     *
     * @param inode    what the path names, or null if it does not exist
     * @param realPath the path with every symlink resolved, as far as it got
     * @param problem  why it does not exist ("no such file: /abc/init"), or null
     */
    public record Resolved(Inode inode, String realPath, String problem) {
        public boolean exists() {
            return inode != null;
        }
    }

    /** The inode {@code path} names, following symlinks (also the last one); empty if there is none. */
    public Optional<Inode> lookup(String path) throws IOException {
        return Optional.ofNullable(resolve(path, true).inode());
    }

    /** Like {@link #lookup} but a symlink at the end of the path is returned itself (lstat). */
    public Optional<Inode> lookupNoFollow(String path) throws IOException {
        return Optional.ofNullable(resolve(path, false).inode());
    }

    /**
     * Resolves {@code path} the way the kernel would with the image mounted (see the class comment for
     * /nix/store), at most {@link #MAX_SYMLINKS} symlinks deep.
     *
     * @throws SquashfsException on a symlink loop or a corrupt image
     */
    public Resolved resolve(String path, boolean followLast) throws IOException {
        Deque<String> todo = new ArrayDeque<>(components(mapStorePath(path)));
        record Step(String name, Inode inode) {
        }
        Deque<Step> stack = new ArrayDeque<>();
        Inode rootDir = root();
        int symlinks = 0;
        while (!todo.isEmpty()) {
            String c = todo.pollFirst();
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                stack.pollLast();
                continue;
            }
            Inode dir = stack.isEmpty() ? rootDir : stack.peekLast().inode();
            String here = join(stack.stream().map(Step::name).toList());
            if (!(dir instanceof Inode.Directory directory)) {
                return new Resolved(null, here, "not a directory: " + here);
            }
            Optional<DirectoryEntry> entry = find(directory, c);
            String there = join(stack.stream().map(Step::name).toList(), c);
            if (entry.isEmpty()) {
                return new Resolved(null, there, "no such file: " + there);
            }
            Inode inode = inode(entry.get().inode());
            if (inode instanceof Inode.Symlink link && (followLast || !todo.isEmpty())) {
                if (++symlinks > MAX_SYMLINKS) {
                    throw new SquashfsException(name + ": too many levels of symbolic links resolving " + path
                            + " (a loop at " + there + "?)");
                }
                String target = mapStorePath(link.target());
                if (target.startsWith("/")) {
                    stack.clear();
                }
                List<String> parts = components(target);
                for (int i = parts.size() - 1; i >= 0; i--) {
                    todo.addFirst(parts.get(i));
                }
                continue;
            }
            stack.addLast(new Step(c, inode));
        }
        return new Resolved(stack.isEmpty() ? rootDir : stack.peekLast().inode(),
                join(stack.stream().map(Step::name).toList()), null);
    }

    /** The entries of the directory at {@code path} (following symlinks), in the image's (sorted) order. */
    public List<DirectoryEntry> list(String path) throws IOException {
        Resolved r = resolve(path, true);
        if (r.inode() instanceof Inode.Directory dir) {
            return list(dir);
        }
        throw new SquashfsException(name + ": " + (r.exists() ? "not a directory: " + path : r.problem()));
    }

    public List<DirectoryEntry> list(Inode.Directory dir) throws IOException {
        List<DirectoryEntry> entries = new ArrayList<>();
        scan(dir, null, entries);
        return entries;
    }

    /** The entry called {@code entryName} in {@code dir}, without listing the whole directory into memory. */
    public Optional<DirectoryEntry> find(Inode.Directory dir, String entryName) throws IOException {
        return Optional.ofNullable(scan(dir, entryName, null));
    }

    /** The regular file at {@code path} (following symlinks). */
    public Inode.RegularFile file(String path) throws IOException {
        Resolved r = resolve(path, true);
        if (r.inode() instanceof Inode.RegularFile file) {
            return file;
        }
        throw new SquashfsException(name + ": " + (r.exists() ? "not a regular file: " + path : r.problem()));
    }

    public InputStream open(Inode.RegularFile file) {
        return new FileDataStream(this, file);
    }

    public InputStream open(String path) throws IOException {
        return open(file(path));
    }

    /** A small file's bytes (at most {@link #READ_ALL_LIMIT}). */
    public byte[] readAll(Inode.RegularFile file) throws IOException {
        if (file.size() > READ_ALL_LIMIT) {
            throw new SquashfsException(name + ": a " + file.size() + "-byte file is too large to read whole (limit "
                    + READ_ALL_LIMIT + ")");
        }
        try (InputStream in = open(file)) {
            return in.readAllBytes();
        }
    }

    public byte[] readAll(String path) throws IOException {
        return readAll(file(path));
    }

    /**
     * A NixOS store image has the store paths at its root; a full root file system has /nix/store inside.
     * Only the first needs /nix/store/ stripped.
     */
    private String mapStorePath(String p) throws IOException {
        if (!(p.equals(NIX_STORE) || p.startsWith(NIX_STORE + "/"))) {
            return p;
        }
        Boolean atRoot = storeAtRoot;
        if (atRoot == null) {
            Optional<DirectoryEntry> nix = find(root(), "nix");
            boolean hasStore = nix.isPresent() && inode(nix.get().inode()) instanceof Inode.Directory nixDir
                    && find(nixDir, "store").isPresent();
            atRoot = !hasStore;
            storeAtRoot = atRoot;
        }
        return atRoot ? "/" + p.substring(NIX_STORE.length()) : p;
    }

    private static List<String> components(String p) {
        return Arrays.stream(p.split("/")).filter(s -> !s.isEmpty()).toList();
    }

    private static String join(List<String> names, String... more) {
        StringBuilder b = new StringBuilder();
        for (String n : names) {
            b.append('/').append(n);
        }
        for (String n : more) {
            b.append('/').append(n);
        }
        return b.isEmpty() ? "/" : b.toString();
    }

    // ---- tables --------------------------------------------------------------------------------------------

    /** Reads the inode at a reference (metadata block offset in the inode table &lt;&lt; 16 | offset in it). */
    public Inode inode(long reference) throws IOException {
        long block = reference >>> 16;
        int offset = (int) (reference & 0xffff);
        long tableLength = superblock.directoryTableStart() - superblock.inodeTableStart();
        if (block >= tableLength || offset >= METADATA_SIZE) {
            throw corrupt("inode reference " + Long.toHexString(reference) + " is outside the inode table");
        }
        MetadataCursor in = new MetadataCursor(this, "inode table", superblock.inodeTableStart(),
                superblock.directoryTableStart(), superblock.inodeTableStart() + block, offset);
        try {
            return readInode(in, reference);
        } catch (RuntimeException e) {
            throw corrupt("inode at " + Long.toHexString(reference) + ": " + e);
        }
    }

    private Inode readInode(MetadataCursor in, long reference) throws IOException {
        int type = in.u16();
        int permissions = in.u16() & 07777;
        int uidIndex = in.u16();
        int gidIndex = in.u16();
        long mtime = in.u32();
        long number = in.u32();
        switch (type) {
            case 1 -> {
                long blockIndex = in.u32();
                long links = in.u32();
                int size = in.u16();
                int blockOffset = in.u16();
                long parent = in.u32();
                return new Inode.Directory(attributes(type, permissions, uidIndex, gidIndex, mtime, number, links),
                        blockIndex, checkListingOffset(blockOffset, reference), size, parent);
            }
            case 8 -> {
                long links = in.u32();
                long size = in.u32();
                long blockIndex = in.u32();
                long parent = in.u32();
                in.u16(); // index count: the index only speeds up lookups in huge directories
                int blockOffset = in.u16();
                in.u32(); // xattr index
                return new Inode.Directory(attributes(type, permissions, uidIndex, gidIndex, mtime, number, links),
                        blockIndex, checkListingOffset(blockOffset, reference), size, parent);
            }
            case 2 -> {
                long blocksStart = in.u32();
                long fragment = in.u32();
                int fragmentOffset = (int) in.u32();
                long size = in.u32();
                return regularFile(in, attributes(type, permissions, uidIndex, gidIndex, mtime, number, 1),
                        blocksStart, size, fragment, fragmentOffset);
            }
            case 9 -> {
                long blocksStart = in.u64();
                long size = in.u64();
                in.u64(); // sparse: bytes saved by sparse blocks
                long links = in.u32();
                long fragment = in.u32();
                int fragmentOffset = (int) in.u32();
                in.u32(); // xattr index
                return regularFile(in, attributes(type, permissions, uidIndex, gidIndex, mtime, number, links),
                        blocksStart, size, fragment, fragmentOffset);
            }
            case 3, 10 -> {
                long links = in.u32();
                long targetSize = in.u32();
                if (targetSize == 0 || targetSize > 65535) {
                    throw corrupt("symlink inode " + number + " has a " + targetSize + "-byte target");
                }
                String target = new String(in.bytes((int) targetSize), StandardCharsets.UTF_8);
                return new Inode.Symlink(attributes(type, permissions, uidIndex, gidIndex, mtime, number, links),
                        target);
            }
            case 4, 5, 11, 12 -> {
                long links = in.u32();
                long dev = in.u32();
                // The kernel's new_encode_dev(): minor's low byte, major, then minor's high bits.
                int major = (int) ((dev & 0xfff00) >>> 8);
                int minor = (int) ((dev & 0xff) | ((dev >>> 12) & 0xfff00));
                return new Inode.Device(attributes(type, permissions, uidIndex, gidIndex, mtime, number, links),
                        type == 4 || type == 11, major, minor);
            }
            case 6, 7, 13, 14 -> {
                long links = in.u32();
                return new Inode.Special(attributes(type, permissions, uidIndex, gidIndex, mtime, number, links),
                        type == 7 || type == 14);
            }
            default -> throw corrupt("inode at " + Long.toHexString(reference) + " has unknown type " + type);
        }
    }

    private int checkListingOffset(int blockOffset, long reference) throws SquashfsException {
        if (blockOffset >= METADATA_SIZE) {
            throw corrupt("directory inode at " + Long.toHexString(reference) + " has listing offset " + blockOffset);
        }
        return blockOffset;
    }

    private Inode.RegularFile regularFile(MetadataCursor in, Inode.Attributes attributes, long blocksStart,
                                          long size, long fragment, int fragmentOffset) throws IOException {
        if (size < 0) {
            throw corrupt("file inode " + attributes.number() + " has size " + Long.toUnsignedString(size));
        }
        if (fragment != Inode.RegularFile.NO_FRAGMENT && (fragment >= superblock.fragmentCount()
                || fragmentOffset < 0 || fragmentOffset >= superblock.blockSize())) {
            throw corrupt("file inode " + attributes.number() + " refers to fragment " + fragment + " offset "
                    + Integer.toUnsignedString(fragmentOffset) + " (the image has " + superblock.fragmentCount()
                    + " fragments of at most " + superblock.blockSize() + " bytes)");
        }
        return new Inode.RegularFile(attributes, blocksStart, size, fragment, fragmentOffset, in.reference());
    }

    private Inode.Attributes attributes(int type, int permissions, int uidIndex, int gidIndex, long mtime,
                                        long number, long links) throws IOException {
        return new Inode.Attributes(type, permissions, id(uidIndex), id(gidIndex), mtime, number, links);
    }

    /** An entry of the id table (uids and gids are stored once, inodes refer to them by index). */
    private long id(int index) throws IOException {
        Long cached = idCache.get((long) index);
        if (cached != null) {
            return cached;
        }
        if (index >= superblock.idCount()) {
            throw corrupt("id index " + index + " is past the id table (" + superblock.idCount() + " ids)");
        }
        long block = tableBlock(superblock.idTableStart(), index / IDS_PER_BLOCK, "id table");
        MetadataCursor in = new MetadataCursor(this, "id table", block, superblock.bytesUsed(), block,
                (index % IDS_PER_BLOCK) * 4);
        long id = in.u32();
        idCache.put((long) index, id);
        return id;
    }

    /** The absolute offset of the {@code n}-th metadata block of a table with an index of u64 block offsets. */
    private long tableBlock(long indexStart, long n, String table) throws IOException {
        long at = indexStart + n * 8;
        if (at < 0 || at + 8 > superblock.bytesUsed()) {
            throw pastEnd(table + " index entry at " + at);
        }
        byte[] b = new byte[8];
        readAt(channel, at, b, 8);
        long block = ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        if (block < Superblock.SIZE || block >= superblock.bytesUsed()) {
            throw corrupt(table + ": metadata block " + n + " at " + Long.toUnsignedString(block)
                    + " is outside the image (" + superblock.bytesUsed() + " bytes)");
        }
        return block;
    }

    /**
     * Walks a directory's listing: a run of headers (entry count, metadata block of the entries' inodes, base
     * inode number), each followed by its entries. Returns the entry named {@code wanted}, or collects them all.
     */
    private DirectoryEntry scan(Inode.Directory dir, String wanted, List<DirectoryEntry> all) throws IOException {
        if (dir.listingSize() < 3) {
            throw corrupt("directory inode " + dir.attributes().number() + " has listing size " + dir.listingSize());
        }
        long left = dir.listingSize() - 3;
        long start = superblock.directoryTableStart();
        if (dir.blockIndex() >= directoryTableEnd - start) {
            throw corrupt("directory inode " + dir.attributes().number() + ": listing at " + dir.blockIndex()
                    + " is outside the directory table");
        }
        MetadataCursor in = new MetadataCursor(this, "directory table", start, directoryTableEnd,
                start + dir.blockIndex(), dir.blockOffset());
        byte[] nameBuffer = new byte[256];
        while (left > 0) {
            if (left < 12) {
                throw corrupt("directory inode " + dir.attributes().number() + ": listing ends inside a header");
            }
            long count = in.u32() + 1;
            long inodeBlock = in.u32();
            long baseNumber = in.u32();
            left -= 12;
            if (count > 256) {
                throw corrupt("directory inode " + dir.attributes().number() + ": a header counts " + count
                        + " entries (at most 256)");
            }
            for (long i = 0; i < count; i++) {
                if (left < 8) {
                    throw corrupt("directory inode " + dir.attributes().number() + ": listing ends inside an entry");
                }
                int offset = in.u16();
                in.u16(); // inode number delta from the header's base: the inode holds its own number
                int type = in.u16();
                int nameLength = in.u16() + 1;
                left -= 8 + nameLength;
                if (left < 0 || nameLength > 256) {
                    throw corrupt("directory inode " + dir.attributes().number() + ": an entry name of " + nameLength
                            + " bytes runs past the listing");
                }
                in.readFully(nameBuffer, 0, nameLength);
                String entryName = new String(nameBuffer, 0, nameLength, StandardCharsets.UTF_8);
                if (entryName.equals(".") || entryName.equals("..") || entryName.contains("/")
                        || entryName.indexOf('\0') >= 0) {
                    throw corrupt("directory inode " + dir.attributes().number() + " holds the bad name \""
                            + entryName.replace("\0", "\\0") + "\"");
                }
                if (type < 1 || type > 7) {
                    throw corrupt("directory entry " + entryName + " has type " + type);
                }
                DirectoryEntry entry = new DirectoryEntry(entryName, type, inodeBlock << 16 | offset);
                if (wanted != null && wanted.equals(entryName)) {
                    return entry;
                }
                if (all != null) {
                    all.add(entry);
                }
            }
            if (baseNumber == 0) {
                throw corrupt("directory inode " + dir.attributes().number() + ": a header has inode number 0");
            }
        }
        return null;
    }

    // ---- blocks --------------------------------------------------------------------------------------------

    /** Reads (or takes from the cache) the metadata block at an absolute offset, which must end by tableEnd. */
    MetadataBlock metadataBlock(long position, long tableEnd, String table) throws IOException {
        MetadataBlock cached = metadataCache.get(position);
        if (cached != null) {
            return cached;
        }
        if (position + 2 > tableEnd) {
            throw truncatedOrCorrupt(table, position, tableEnd);
        }
        byte[] header = new byte[2];
        readAt(channel, position, header, 2);
        int word = (header[0] & 0xff) | (header[1] & 0xff) << 8;
        int diskSize = word & 0x7fff;
        boolean compressed = (word & 0x8000) == 0;
        if (diskSize == 0 || diskSize > METADATA_SIZE) {
            throw corrupt(table + ": metadata block at " + position + " claims " + diskSize + " bytes (1 to "
                    + METADATA_SIZE + ")");
        }
        if (position + 2 + diskSize > tableEnd) {
            throw truncatedOrCorrupt(table, position, tableEnd);
        }
        byte[] raw = new byte[diskSize];
        readAt(channel, position + 2, raw, diskSize);
        MetadataBlock block;
        if (compressed) {
            byte[] data = new byte[METADATA_SIZE];
            int n;
            try {
                n = compressor.decompress(raw, diskSize, data);
            } catch (IOException e) {
                throw corrupt(table + ": metadata block at " + position + ": " + e.getMessage());
            }
            block = new MetadataBlock(data, n, position + 2 + diskSize);
        } else {
            block = new MetadataBlock(raw, diskSize, position + 2 + diskSize);
        }
        metadataCache.put(position, block);
        return block;
    }

    private SquashfsException truncatedOrCorrupt(String table, long position, long tableEnd) {
        if (tableEnd >= fileSize) {
            return truncated(table + " block at " + position);
        }
        return corrupt(table + ": metadata block at " + position + " runs past the table's end (" + tableEnd + ")");
    }

    /**
     * Reads one data block (or fragment block) of {@code expected} bytes at most: {@code word} is its on-disk size
     * with bit 24 set when stored uncompressed. Returns the decompressed length.
     */
    int dataBlock(long position, int word, byte[] dst, String what) throws IOException {
        int diskSize = word & 0xffffff;
        boolean compressed = (word & 0x1000000) == 0;
        if ((word & ~0x1ffffff) != 0 || diskSize > superblock.blockSize()) {
            throw corrupt(what + " claims " + Integer.toUnsignedString(diskSize) + " bytes on disk (block size "
                    + superblock.blockSize() + ")");
        }
        if (position < Superblock.SIZE || position + diskSize > superblock.bytesUsed()) {
            throw pastEnd(what + " at " + position + " (" + diskSize + " bytes)");
        }
        if (!compressed) {
            if (diskSize > dst.length) {
                throw corrupt(what + " holds " + diskSize + " bytes, expected at most " + dst.length);
            }
            readAt(channel, position, dst, diskSize);
            return diskSize;
        }
        byte[] raw = new byte[diskSize];
        readAt(channel, position, raw, diskSize);
        try {
            return compressor.decompress(raw, diskSize, dst);
        } catch (IOException e) {
            throw corrupt(what + " at " + position + ": " + e.getMessage());
        }
    }

    /** The decompressed fragment block with index {@code index} (cached: many small files share one). */
    byte[] fragmentBlock(long index) throws IOException {
        if (index >= superblock.fragmentCount()) {
            throw corrupt("fragment " + index + " is past the fragment table (" + superblock.fragmentCount() + ")");
        }
        byte[] cached = fragmentCache.get(index);
        if (cached != null) {
            return cached;
        }
        long block = tableBlock(superblock.fragmentTableStart(), index / FRAGMENTS_PER_BLOCK, "fragment table");
        MetadataCursor in = new MetadataCursor(this, "fragment table", block, superblock.bytesUsed(), block,
                (int) (index % FRAGMENTS_PER_BLOCK) * 16);
        long start = in.u64();
        long word = in.u32();
        byte[] data = new byte[superblock.blockSize()];
        int n = dataBlock(start, (int) word, data, "fragment block " + index);
        byte[] fragment = Arrays.copyOf(data, n);
        fragmentCache.put(index, fragment);
        return fragment;
    }

    MetadataCursor blockList(Inode.RegularFile file) {
        long ref = file.blockListRef();
        return new MetadataCursor(this, "inode table", superblock.inodeTableStart(), superblock.directoryTableStart(),
                superblock.inodeTableStart() + (ref >>> 16), (int) (ref & 0xffff));
    }

    SquashfsException corrupt(String what) {
        return new SquashfsException(name + ": corrupt: " + what);
    }

    /** Past bytes_used, which open() checked against the file size: the image is corrupt, not cut. */
    private SquashfsException pastEnd(String what) {
        return corrupt(what + " is past the image's end (" + superblock.bytesUsed() + " bytes used)");
    }

    SquashfsException truncated(String what) {
        return new SquashfsException(name + ": truncated: " + what + " past end of file (" + fileSize + " bytes)");
    }

    private static void readAt(FileChannel channel, long position, byte[] dst, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(dst, 0, length);
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new java.io.EOFException("end of file at " + (position + buffer.position()));
            }
        }
    }

    private static <K, V> Map<K, V> lruCache(int capacity) {
        return java.util.Collections.synchronizedMap(new LinkedHashMap<>(capacity, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > capacity;
            }
        });
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return name;
    }
}
