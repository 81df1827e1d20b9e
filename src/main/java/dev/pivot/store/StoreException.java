package dev.pivot.store;

import java.util.regex.Pattern;

/**
 * The database could not do what was asked; the message names the database and the operation. A password that
 * the database URL or the driver's own message carries is masked: these messages reach the log and the console.
 */
public final class StoreException extends RuntimeException {

    private static final Pattern PASSWORD = Pattern.compile("(?i)(password=)[^&\\s)\"']*");

    StoreException(String message, Throwable cause) {
        super(PASSWORD.matcher(message).replaceAll("$1…"), cause);
    }
}
