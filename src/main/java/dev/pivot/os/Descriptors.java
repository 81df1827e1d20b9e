package dev.pivot.os;

import java.io.FileDescriptor;
import java.io.IOException;
import java.nio.channels.SelectableChannel;

/**
 * The numbers behind descriptors the JDK opened, for the system calls Java has no public way to make on them
 * (SO_BINDTODEVICE on a DHCP socket; sendfile and splice on an NBD connection). The JDK keeps the number in
 * {@code sun.nio.ch}, which needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED}, as `./pivot` runs Java.
 */
public final class Descriptors {

    private Descriptors() {
    }

    /**
     * The descriptor of {@code channel}.
     *
     * @param purpose what needs it, for the error without the JVM flag ("binding a socket to an interface")
     */
    public static int of(SelectableChannel channel, String purpose) throws IOException {
        try {
            return (int) Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal").invoke(channel);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw unreachable(e, purpose);
        }
    }

    /** The descriptor behind {@code fd} (a file's, from {@code RandomAccessFile.getFD()}). */
    public static int of(FileDescriptor fd, String purpose) throws IOException {
        try {
            return (int) Class.forName("sun.nio.ch.IOUtil").getMethod("fdVal", FileDescriptor.class).invoke(null, fd);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw unreachable(e, purpose);
        }
    }

    private static IOException unreachable(Exception e, String purpose) {
        return e instanceof IllegalAccessException
                ? new IOException(purpose + " needs the JVM flag --add-exports java.base/sun.nio.ch=ALL-UNNAMED")
                : new IOException("cannot find a file descriptor for " + purpose + ": " + e, e);
    }
}
