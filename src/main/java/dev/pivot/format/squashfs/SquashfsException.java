package dev.pivot.format.squashfs;

import java.io.IOException;

/**
 * A squashfs image cannot be read: truncated, corrupt, or using a feature Pivot does not read. The one-line
 * message starts with the image file and says what is wrong. An {@link IOException}, so the streams of
 * {@link SquashfsImage#open} can throw it too.
 */
public final class SquashfsException extends IOException {

    public SquashfsException(String message) {
        super(message);
    }

    public SquashfsException(String message, Throwable cause) {
        super(message, cause);
    }
}
