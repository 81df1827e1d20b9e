package dev.pivot.net;

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
import java.nio.channels.Channel;

/**
 * Linux socket options Java has no public name for, set with setsockopt(2) through the FFM API. Java also has no
 * public way to a channel's file descriptor: that needs {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED}
 * and {@code --enable-native-access=ALL-UNNAMED} on the java command line (./pivot and the tests pass both).
 */
public final class SocketOptions {

    public static final int SOL_SOCKET = 1;
    public static final int SO_BINDTODEVICE = 25;
    public static final int IPPROTO_TCP = 6;
    public static final int TCP_NOTSENT_LOWAT = 25;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    @SuppressWarnings("restricted") // native access is what this class is for
    private static final MethodHandle SETSOCKOPT = LINKER.downcallHandle(
            LINKER.defaultLookup().find("setsockopt").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));

    private SocketOptions() {
    }

    /** setsockopt(fd, level, option, value): throws with errno when the kernel refuses. */
    public static void set(Channel channel, int level, int option, byte[] value) throws IOException {
        int fd = fileDescriptor(channel);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment bytes = arena.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, bytes, ValueLayout.JAVA_BYTE, 0, value.length);
            MemorySegment state = arena.allocate(CALL_STATE);
            int rc = (int) SETSOCKOPT.invokeExact(state, fd, level, option, bytes, value.length);
            if (rc != 0) {
                throw new Refused((int) ERRNO.get(state, 0L));
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("setsockopt failed: " + e, e);
        }
    }

    /** An int option. */
    public static void set(Channel channel, int level, int option, int value) throws IOException {
        set(channel, level, option, new byte[]{(byte) value, (byte) (value >>> 8), (byte) (value >>> 16),
                (byte) (value >>> 24)}); // little-endian: the only byte order Pivot's platforms (x86-64, arm64) use
    }

    /** The kernel refused the option; {@link #errno()} says why (19 ENODEV, 1 EPERM, …). */
    public static final class Refused extends IOException {
        private final int errno;

        Refused(int errno) {
            super("errno " + errno);
            this.errno = errno;
        }

        public int errno() {
            return errno;
        }
    }

    private static int fileDescriptor(Channel channel) throws IOException {
        try {
            return (int) Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal").invoke(channel);
        } catch (IllegalAccessException e) {
            throw new IOException("setting this socket option needs the JVM flag "
                    + "--add-exports java.base/sun.nio.ch=ALL-UNNAMED");
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IOException("cannot find the socket's file descriptor: " + e, e);
        }
    }
}
