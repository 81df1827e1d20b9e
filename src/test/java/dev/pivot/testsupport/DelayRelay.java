package dev.pivot.testsupport;

import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A link with a one-way delay, for tests: bridges Ethernet frames between two interfaces of the namespace it runs
 * in ({@code ip netns exec R java … DelayRelay IF_A IF_B DELAY_MICROS}), holding each frame for the delay before
 * passing it on. This kernel has no netem (netboot-facts, pitfall 12), so a user-space bridge on packet sockets
 * gives the delay. Frames only ever go from one named interface to the other: nothing is addressed or routed. It
 * prints "READY" once both sockets are bound and stops when its stdin closes.
 */
public final class DelayRelay {

    private static final int AF_PACKET = 17, SOCK_RAW = 3, ETH_P_ALL_NETWORK_ORDER = 0x0300;
    private static final int SOL_PACKET = 263, PACKET_IGNORE_OUTGOING = 23;
    private static final int MAX_FRAME = 65536;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MethodHandle SOCKET = handle("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT));
    private static final MethodHandle IF_NAMETOINDEX = handle("if_nametoindex", FunctionDescriptor.of(JAVA_INT,
            ADDRESS));
    private static final MethodHandle BIND = handle("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS,
            JAVA_INT));
    private static final MethodHandle SETSOCKOPT = handle("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
            JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECV = handle("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG, JAVA_INT));
    private static final MethodHandle SEND = handle("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
            JAVA_LONG, JAVA_INT));

    private DelayRelay() { }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), descriptor);
    }

    private record Frame(byte[] bytes, long dueNanos) implements Delayed {
        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            return Long.compare(dueNanos, ((Frame) other).dueNanos);
        }
    }

    public static void main(String[] args) throws Throwable {
        if (args.length != 3) {
            System.err.println("usage: DelayRelay IF_A IF_B DELAY_MICROS");
            System.exit(2);
        }
        long delayNanos = TimeUnit.MICROSECONDS.toNanos(Long.parseLong(args[2]));
        int a = open(args[0]);
        int b = open(args[1]);
        relay(a, b, delayNanos);
        relay(b, a, delayNanos);
        System.out.println("READY");
        System.out.flush();
        System.in.transferTo(OutputStream.nullOutputStream());
        System.exit(0);
    }

    /** A packet socket on one interface that sees every frame arriving there, but not those it sends itself. */
    private static int open(String ifName) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            int index = (int) IF_NAMETOINDEX.invokeExact(arena.allocateFrom(ifName));
            if (index == 0) {
                throw new IllegalArgumentException("no interface " + ifName + " in this namespace");
            }
            int fd = (int) SOCKET.invokeExact(AF_PACKET, SOCK_RAW, ETH_P_ALL_NETWORK_ORDER);
            if (fd < 0) {
                throw new IllegalStateException("socket(AF_PACKET) failed: needs root");
            }
            MemorySegment one = arena.allocateFrom(JAVA_INT, 1);
            if ((int) SETSOCKOPT.invokeExact(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, one, 4) != 0) {
                throw new IllegalStateException("PACKET_IGNORE_OUTGOING failed on " + ifName);
            }
            // struct sockaddr_ll: family, protocol (network order), ifindex, then hatype/pkttype/halen/addr unused.
            MemorySegment address = arena.allocate(20);
            address.set(ValueLayout.JAVA_SHORT, 0, (short) AF_PACKET);
            address.set(ValueLayout.JAVA_SHORT, 2, (short) ETH_P_ALL_NETWORK_ORDER);
            address.set(JAVA_INT, 4, index);
            if ((int) BIND.invokeExact(fd, address, 20) != 0) {
                throw new IllegalStateException("bind to " + ifName + " failed");
            }
            return fd;
        }
    }

    /**
     * veth leaves the UDP checksum to "the hardware" (only the pseudo-header sum is in the field); a frame taken off
     * the wire by a packet socket and sent on keeps that partial sum and the receiver drops it. Over IPv4 a zero
     * checksum means "none" (RFC 768), which every receiver accepts.
     */
    static void clearUdpChecksum(byte[] frame) {
        boolean ipv4 = frame.length >= 34 && frame[12] == 0x08 && frame[13] == 0x00;
        if (!ipv4 || frame[23] != 17) {
            return;
        }
        int udp = 14 + (frame[14] & 0x0f) * 4;
        if (frame.length >= udp + 8) {
            frame[udp + 6] = 0;
            frame[udp + 7] = 0;
        }
    }

    /** Frames from {@code from} go out of {@code to} once {@code delayNanos} have passed, in order. */
    private static void relay(int from, int to, long delayNanos) {
        DelayQueue<Frame> queue = new DelayQueue<>();
        Thread.ofPlatform().daemon(true).name("relay-in-" + from).start(() -> {
            MemorySegment buffer = Arena.global().allocate(MAX_FRAME);
            try {
                while (true) {
                    long n = (long) RECV.invokeExact(from, buffer, (long) MAX_FRAME, 0);
                    if (n > 0) {
                        byte[] frame = buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
                        clearUdpChecksum(frame);
                        queue.put(new Frame(frame, System.nanoTime() + delayNanos));
                    }
                }
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        });
        Thread.ofPlatform().daemon(true).name("relay-out-" + to).start(() -> {
            MemorySegment buffer = Arena.global().allocate(MAX_FRAME);
            try {
                while (true) {
                    Frame frame = queue.take();
                    MemorySegment.copy(frame.bytes(), 0, buffer, ValueLayout.JAVA_BYTE, 0, frame.bytes().length);
                    long sent = (long) SEND.invokeExact(to, buffer, (long) frame.bytes().length, 0);
                    if (sent < 0) {
                        System.err.println("DelayRelay: send failed on fd " + to);
                    }
                }
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        });
    }
}
