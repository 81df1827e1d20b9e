package dev.pivot.image;

/** A netboot image (or a file of it) cannot be used. The one-line message names the file and what is wrong. */
public final class ImageException extends Exception {

    public ImageException(String message) {
        super(message);
    }

    public ImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
