package dev.pivot.store;

/** The database could not do what was asked; the message names the database and the operation. */
public final class StoreException extends RuntimeException {

    StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
