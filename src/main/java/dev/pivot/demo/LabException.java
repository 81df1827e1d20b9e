package dev.pivot.demo;

/** A lab step (namespace, QEMU, a peer server) failed; the message names the step and why. */
public final class LabException extends RuntimeException {
    public LabException(String message) {
        super(message);
    }

    public LabException(String message, Throwable cause) {
        super(message, cause);
    }
}
