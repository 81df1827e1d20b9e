package dev.pivot.format.squashfs;

/**
 * One inode of the image. Basic and extended inodes of a kind read into the same record; the extended-only
 * fields (xattrs, sparse byte counts) that Pivot does not need are not kept.
 */
public sealed interface Inode {

    int S_IFIFO = 0010000;
    int S_IFCHR = 0020000;
    int S_IFDIR = 0040000;
    int S_IFBLK = 0060000;
    int S_IFREG = 0100000;
    int S_IFLNK = 0120000;
    int S_IFSOCK = 0140000;

    Attributes attributes();

    /** st_mode's file type bits. */
    int fileType();

    /** The full st_mode: type bits and permissions. */
    default int mode() {
        return fileType() | attributes().permissions();
    }

    /** Any of the execute bits is set. */
    default boolean executable() {
        return (attributes().permissions() & 0111) != 0;
    }

    /**
     * @param type        the on-disk inode type, 1–14 (8–14 are the extended forms of 1–7)
     * @param permissions the permission bits, including setuid, setgid and sticky (07777)
     * @param uid         the owner's numeric id, from the id table
     * @param gid         the group's numeric id, from the id table
     * @param mtime       seconds since the epoch
     * @param number      the inode number (1-based)
     * @param linkCount   hard links (for a directory: 2 + subdirectories)
     */
    record Attributes(int type, int permissions, long uid, long gid, long mtime, long number, long linkCount) {
    }

    /**
     * @param blockIndex  the listing's metadata block, relative to the directory table
     * @param blockOffset the listing's offset in that block once decompressed
     * @param listingSize the listing's length in bytes plus 3 (squashfs counts "." and ".." that way)
     * @param parent      the parent directory's inode number
     */
    record Directory(Attributes attributes, long blockIndex, int blockOffset, long listingSize, long parent)
            implements Inode {
        @Override
        public int fileType() {
            return S_IFDIR;
        }
    }

    /**
     * @param blocksStart    absolute offset of the first data block
     * @param size           the file's length in bytes
     * @param fragment       index in the fragment table of the block holding the tail, or {@link #NO_FRAGMENT}
     * @param fragmentOffset the tail's offset in that fragment block once decompressed
     * @param blockListRef   where the list of data block sizes starts in the inode table (a metadata reference)
     */
    record RegularFile(Attributes attributes, long blocksStart, long size, long fragment, int fragmentOffset,
                       long blockListRef) implements Inode {
        public static final long NO_FRAGMENT = 0xFFFFFFFFL;

        @Override
        public int fileType() {
            return S_IFREG;
        }

        public boolean hasFragment() {
            return fragment != NO_FRAGMENT;
        }
    }

    record Symlink(Attributes attributes, String target) implements Inode {
        @Override
        public int fileType() {
            return S_IFLNK;
        }
    }

    record Device(Attributes attributes, boolean block, int major, int minor) implements Inode {
        @Override
        public int fileType() {
            return block ? S_IFBLK : S_IFCHR;
        }
    }

    /** A named pipe or a Unix socket. */
    record Special(Attributes attributes, boolean socket) implements Inode {
        @Override
        public int fileType() {
            return socket ? S_IFSOCK : S_IFIFO;
        }
    }
}
