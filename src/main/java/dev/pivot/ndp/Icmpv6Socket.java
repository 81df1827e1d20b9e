package dev.pivot.ndp;

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
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A raw ICMPv6 socket bound to one interface, through the FFM API (Java has no raw sockets): it hears only router
 * solicitations and advertisements arriving on that interface and sends link-local multicast through it with the
 * hop limit 255 that Neighbor Discovery requires. The kernel computes the ICMPv6 checksum. Needs CAP_NET_RAW
 * and {@code --enable-native-access=ALL-UNNAMED}.
 */
final class Icmpv6Socket implements AutoCloseable {

    private static final int AF_INET6 = 10;
    private static final int SOCK_RAW = 3;
    private static final int IPPROTO_ICMPV6 = 58;
    private static final int IPPROTO_IPV6 = 41;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int SO_BINDTODEVICE = 25;
    private static final int ICMP6_FILTER = 1;
    private static final int IPV6_UNICAST_HOPS = 16;
    private static final int IPV6_MULTICAST_IF = 17;
    private static final int IPV6_MULTICAST_HOPS = 18;
    private static final int IPV6_MULTICAST_LOOP = 19;
    private static final int IPV6_JOIN_GROUP = 20;
    private static final int EAGAIN = 11;
    private static final int EINTR = 4;
    private static final int SOCKADDR_IN6_BYTES = 28;
    /** ff02::1, every node on the link. */
    static final byte[] ALL_NODES = {(byte) 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    /** ff02::2, every router on the link. */
    static final byte[] ALL_ROUTERS = {(byte) 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SOCKET = downcall("socket",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SETSOCKOPT = downcall("setsockopt",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle RECVFROM = downcall("recvfrom",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle SENDTO = downcall("sendto",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE = downcall("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle IF_NAMETOINDEX = downcall("if_nametoindex",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));

    /** A datagram received: the ICMPv6 bytes and the sender's IPv6 address. */
    record Received(byte[] data, int length, byte[] source) {
    }

    private final int fd;
    private final int ifIndex;
    private final String interfaceName;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment receiveBuffer = arena.allocate(1500);
    private final MemorySegment receiveFrom = arena.allocate(SOCKADDR_IN6_BYTES);
    private final MemorySegment receiveFromLength = arena.allocate(ValueLayout.JAVA_INT);
    private final MemorySegment receiveState = arena.allocate(CALL_STATE);

    private Icmpv6Socket(int fd, int ifIndex, String interfaceName) {
        this.fd = fd;
        this.ifIndex = ifIndex;
        this.interfaceName = interfaceName;
    }

    @SuppressWarnings("restricted") // native access is what this class is for
    private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor,
                Linker.Option.captureCallState("errno"));
    }

    /**
     * Opens the socket on {@code interfaceName}, joined to all-routers (to hear solicitations), hearing only types
     * 133 and 134, and waking up every {@code receiveTimeoutMillis} so its reader can notice a close.
     */
    static Icmpv6Socket open(String interfaceName, int receiveTimeoutMillis) throws IOException {
        byte[] name = interfaceName.getBytes(StandardCharsets.US_ASCII);
        if (name.length == 0 || name.length >= 16) {
            throw new IOException("interface name '" + interfaceName + "' must be 1..15 characters");
        }
        int ifIndex;
        int fd;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CALL_STATE);
            MemorySegment cName = a.allocateFrom(interfaceName);
            ifIndex = (int) IF_NAMETOINDEX.invokeExact(state, cName);
            if (ifIndex == 0) {
                throw new IOException("no interface " + interfaceName);
            }
            fd = (int) SOCKET.invokeExact(state, AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
            if (fd < 0) {
                throw new IOException("cannot open a raw ICMPv6 socket: " + errnoText(errno(state)));
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable e) {
            throw new IOException("cannot open a raw ICMPv6 socket: " + e, e);
        }
        Icmpv6Socket socket = new Icmpv6Socket(fd, ifIndex, interfaceName);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment device = a.allocate(16);
            MemorySegment.copy(name, 0, device, ValueLayout.JAVA_BYTE, 0, name.length);
            socket.option(a, SOL_SOCKET, SO_BINDTODEVICE, device, name.length + 1, "SO_BINDTODEVICE " + interfaceName);
            // struct icmp6_filter: a set bit blocks that type (Linux's convention).
            MemorySegment filter = a.allocate(32);
            for (int i = 0; i < 8; i++) {
                filter.setAtIndex(ValueLayout.JAVA_INT, i, -1);
            }
            for (int type : new int[]{NdpMessage.ROUTER_SOLICITATION, NdpMessage.ROUTER_ADVERTISEMENT}) {
                int word = filter.getAtIndex(ValueLayout.JAVA_INT, type >> 5);
                filter.setAtIndex(ValueLayout.JAVA_INT, type >> 5, word & ~(1 << (type & 31)));
            }
            socket.option(a, IPPROTO_ICMPV6, ICMP6_FILTER, filter, 32, "ICMP6_FILTER");
            socket.intOption(a, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 255, "IPV6_MULTICAST_HOPS");
            socket.intOption(a, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 255, "IPV6_UNICAST_HOPS");
            socket.intOption(a, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifIndex, "IPV6_MULTICAST_IF");
            socket.intOption(a, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 0, "IPV6_MULTICAST_LOOP");
            MemorySegment group = a.allocate(20); // struct ipv6_mreq: the group, then the interface index
            MemorySegment.copy(ALL_ROUTERS, 0, group, ValueLayout.JAVA_BYTE, 0, 16);
            group.set(ValueLayout.JAVA_INT, 16, ifIndex);
            socket.option(a, IPPROTO_IPV6, IPV6_JOIN_GROUP, group, 20, "joining ff02::2 on " + interfaceName);
            MemorySegment timeout = a.allocate(16); // struct timeval
            timeout.set(ValueLayout.JAVA_LONG, 0, receiveTimeoutMillis / 1000);
            timeout.set(ValueLayout.JAVA_LONG, 8, (receiveTimeoutMillis % 1000) * 1000L);
            socket.option(a, SOL_SOCKET, SO_RCVTIMEO, timeout, 16, "SO_RCVTIMEO");
            return socket;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    String interfaceName() {
        return interfaceName;
    }

    private void intOption(Arena a, int level, int option, int value, String what) throws IOException {
        MemorySegment v = a.allocate(ValueLayout.JAVA_INT);
        v.set(ValueLayout.JAVA_INT, 0, value);
        option(a, level, option, v, 4, what);
    }

    private void option(Arena a, int level, int option, MemorySegment value, int length, String what)
            throws IOException {
        MemorySegment state = a.allocate(CALL_STATE);
        int rc;
        try {
            rc = (int) SETSOCKOPT.invokeExact(state, fd, level, option, value, length);
        } catch (Throwable e) {
            throw new IOException(what + " failed: " + e, e);
        }
        if (rc != 0) {
            throw new IOException(what + " failed: " + errnoText(errno(state)));
        }
    }

    /** Waits for one datagram; empty when the receive timeout passed first. One reader thread only. */
    Optional<Received> receive() throws IOException {
        receiveFromLength.set(ValueLayout.JAVA_INT, 0, SOCKADDR_IN6_BYTES);
        long n;
        try {
            n = (long) RECVFROM.invokeExact(receiveState, fd, receiveBuffer, receiveBuffer.byteSize(), 0,
                    receiveFrom, receiveFromLength);
        } catch (Throwable e) {
            throw new IOException("ICMPv6 receive failed: " + e, e);
        }
        if (n < 0) {
            int errno = errno(receiveState);
            if (errno == EAGAIN || errno == EINTR) {
                return Optional.empty();
            }
            throw new IOException("ICMPv6 receive failed: " + errnoText(errno));
        }
        byte[] data = receiveBuffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        byte[] source = receiveFrom.asSlice(8, 16).toArray(ValueLayout.JAVA_BYTE);
        return Optional.of(new Received(data, (int) n, source));
    }

    /** Sends {@code message} to a link-local multicast group (ff02::1 or ff02::2) on the interface. */
    void sendTo(byte[] group, byte[] message) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment to = a.allocate(SOCKADDR_IN6_BYTES);
            to.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET6);
            MemorySegment.copy(group, 0, to, ValueLayout.JAVA_BYTE, 8, 16);
            to.set(ValueLayout.JAVA_INT.withOrder(ByteOrder.nativeOrder()), 24, ifIndex);
            MemorySegment body = a.allocateFrom(ValueLayout.JAVA_BYTE, message);
            MemorySegment state = a.allocate(CALL_STATE);
            long n;
            try {
                n = (long) SENDTO.invokeExact(state, fd, body, (long) message.length, 0, to, SOCKADDR_IN6_BYTES);
            } catch (Throwable e) {
                throw new IOException("ICMPv6 send failed: " + e, e);
            }
            if (n < 0) {
                throw new IOException("ICMPv6 send on " + interfaceName + " failed: " + errnoText(errno(state)));
            }
        }
    }

    @Override
    public void close() {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(a.allocate(CALL_STATE), fd);
        } catch (Throwable ignored) {
            // closing: nothing more to do
        }
    }

    /** Frees the receive buffers; only after the reader thread has stopped. */
    void release() {
        arena.close();
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    private static String errnoText(int errno) {
        return "errno " + errno + switch (errno) {
            case 1 -> " (needs CAP_NET_RAW)";
            case 19 -> " (no such interface)";
            case 97 -> " (IPv6 is disabled)";
            case 99 -> " (no IPv6 link-local address on the interface yet)";
            case 101 -> " (network unreachable: is IPv6 on and the interface up?)";
            default -> "";
        };
    }
}
