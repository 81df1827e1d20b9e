package dev.pivot.format.cpio;

import java.io.IOException;

/** The bytes are not (or not entirely) a newc cpio archive. The message names the input. */
public final class CpioFormatException extends IOException {

    public CpioFormatException(String message) {
        super(message);
    }
}
