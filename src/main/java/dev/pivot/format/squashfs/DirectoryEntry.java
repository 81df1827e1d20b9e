package dev.pivot.format.squashfs;

/**
 * One name in a directory listing.
 *
 * @param type  the basic inode type of the entry (1 directory, 2 file, 3 symlink, 4 block device, 5 char device,
 *              6 fifo, 7 socket), also for entries whose inode is extended
 * @param inode the inode reference: metadata block offset in the inode table &lt;&lt; 16 | offset in it
 */
public record DirectoryEntry(String name, int type, long inode) {

    public boolean isDirectory() {
        return type == 1;
    }

    public boolean isRegularFile() {
        return type == 2;
    }

    public boolean isSymlink() {
        return type == 3;
    }
}
