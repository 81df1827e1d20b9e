package dev.pivot.dhcp;

import dev.pivot.os.Descriptors;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;

/**
 * Linux SO_BINDTODEVICE for a DatagramChannel, through the FFM API: the socket then only hears packets that
 * arrived on that interface and sends only through it. Java has no public option for it, and no public way to a
 * channel's file descriptor: that needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED} (and
 * {@code --enable-native-access=ALL-UNNAMED}) on the java command line.
 */
final class InterfaceBinding {

    private static final int SOL_SOCKET = 1;
    private static final int SO_BINDTODEVICE = 25;
    /** Linux IFNAMSIZ, including the terminating NUL. */
    private static final int IFNAMSIZ = 16;

    private InterfaceBinding() {
    }

    @SuppressWarnings("restricted") // native access is what this class is for
    static void bind(DatagramChannel channel, String interfaceName) throws IOException {
        byte[] name = interfaceName.getBytes(StandardCharsets.US_ASCII);
        if (name.length == 0 || name.length >= IFNAMSIZ) {
            throw new IOException("interface name '" + interfaceName + "' must be 1.." + (IFNAMSIZ - 1) + " characters");
        }
        int fd = Descriptors.of(channel, "binding a socket to an interface");
        Linker linker = Linker.nativeLinker();
        StructLayout callState = Linker.Option.captureStateLayout();
        VarHandle errnoHandle = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
        MethodHandle setsockopt = linker.downcallHandle(linker.defaultLookup().find("setsockopt").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                Linker.Option.captureCallState("errno"));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(IFNAMSIZ);
            MemorySegment.copy(name, 0, value, ValueLayout.JAVA_BYTE, 0, name.length);
            MemorySegment state = arena.allocate(callState);
            int rc = (int) setsockopt.invokeExact(state, fd, SOL_SOCKET, SO_BINDTODEVICE, value, name.length + 1);
            if (rc != 0) {
                int errno = (int) errnoHandle.get(state, 0L);
                throw new IOException("SO_BINDTODEVICE " + interfaceName + " failed: errno " + errno
                        + (errno == 19 ? " (no such interface)" : errno == 1 ? " (needs CAP_NET_RAW)" : ""));
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("SO_BINDTODEVICE " + interfaceName + " failed: " + e, e);
        }
    }
}
