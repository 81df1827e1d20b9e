package dev.pivot.stage1;

/**
 * A stage-1 initrd cannot be built (no usable busybox, a missing resource, a root image too big for a cpio). Its
 * own type so that stage 1 need not know the image import; the one-line message names the file and what is wrong.
 */
public final class Stage1Exception extends Exception {

    public Stage1Exception(String message) {
        super(message);
    }

    public Stage1Exception(String message, Throwable cause) {
        super(message, cause);
    }
}
