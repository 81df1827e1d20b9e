package dev.pivot.profiles;

/** A profiles file Pivot cannot use; the message names the file and, where it can, the line. */
public final class ProfileConfigException extends RuntimeException {

    public ProfileConfigException(String message) {
        super(message);
    }
}
