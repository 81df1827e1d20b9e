package dev.pivot.dhcp;

import dev.pivot.net.SocketOptions;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;

/**
 * Linux SO_BINDTODEVICE for a DatagramChannel, through the FFM API: the socket then only hears packets that
 * arrived on that interface and sends only through it. Java has no public option for it, and no public way to a
 * channel's file descriptor: that needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (and
 * {@code --enable-native-access=ALL-UNNAMED}) on the java command line.
 */
final class InterfaceBinding {

    /** Linux IFNAMSIZ, including the terminating NUL. */
    private static final int IFNAMSIZ = 16;

    private InterfaceBinding() {
    }

    static void bind(DatagramChannel channel, String interfaceName) throws IOException {
        byte[] name = interfaceName.getBytes(StandardCharsets.US_ASCII);
        if (name.length == 0 || name.length >= IFNAMSIZ) {
            throw new IOException("interface name '" + interfaceName + "' must be 1.." + (IFNAMSIZ - 1) + " characters");
        }
        byte[] value = java.util.Arrays.copyOf(name, name.length + 1); // NUL-terminated
        try {
            SocketOptions.set(channel, SocketOptions.SOL_SOCKET, SocketOptions.SO_BINDTODEVICE, value);
        } catch (SocketOptions.Refused e) {
            throw new IOException("SO_BINDTODEVICE " + interfaceName + " failed: errno " + e.errno()
                    + (e.errno() == 19 ? " (no such interface)" : e.errno() == 1 ? " (needs CAP_NET_RAW)" : ""));
        } catch (IOException e) {
            throw new IOException("SO_BINDTODEVICE " + interfaceName + " failed: " + e.getMessage(), e);
        }
    }
}
