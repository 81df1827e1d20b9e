package dev.pivot.image;

/**
 * One thing {@link ImageCheck} found wrong with an image, in plain words: what is missing and where to add it.
 *
 * @param subject what it is about: "init", "kernel", "initrd", "root-image", "module:squashfs", "ethernet"
 */
public record Finding(Severity severity, String subject, String message) {

    public enum Severity {
        /** The machine will not boot this image. */
        ERROR,
        /** It may boot, but something looks wrong or could not be checked. */
        WARNING
    }

    static Finding error(String subject, String message) {
        return new Finding(Severity.ERROR, subject, message);
    }

    static Finding warning(String subject, String message) {
        return new Finding(Severity.WARNING, subject, message);
    }

    @Override
    public String toString() {
        return severity + " " + subject + ": " + message;
    }
}
