package dev.pivot.format.cpio;

/**
 * One newc cpio header, as read. {@code mode} is the full st_mode (type bits and permissions).
 *
 * @param name the name as stored (no normalisation: "./x", "/x" and "x" stay distinct)
 */
public record CpioEntry(String name, int mode, long size, long ino, long nlink, long mtime,
                        int rdevMajor, int rdevMinor) {

    public static final int S_IFMT = 0170000;
    public static final int S_IFDIR = 0040000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFCHR = 0020000;

    public int type() {
        return mode & S_IFMT;
    }

    public int permissions() {
        return mode & 07777;
    }

    public boolean isDirectory() {
        return type() == S_IFDIR;
    }

    public boolean isRegularFile() {
        return type() == S_IFREG;
    }

    public boolean isSymlink() {
        return type() == S_IFLNK;
    }

    public boolean isCharDevice() {
        return type() == S_IFCHR;
    }

    /** The name without a leading "./" or "/", as the kernel places it in the initramfs root. */
    public String path() {
        String n = name;
        while (n.startsWith("./") || n.startsWith("/")) {
            n = n.substring(n.startsWith("./") ? 2 : 1);
        }
        return n;
    }
}
