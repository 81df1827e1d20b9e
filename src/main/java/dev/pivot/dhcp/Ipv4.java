package dev.pivot.dhcp;

import java.net.Inet4Address;

/** IPv4 arithmetic on addresses as unsigned 32-bit numbers. */
public final class Ipv4 {

    private Ipv4() {
    }

    static long toLong(Inet4Address a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xffL) << 24) | ((b[1] & 0xffL) << 16) | ((b[2] & 0xffL) << 8) | (b[3] & 0xffL);
    }

    static Inet4Address of(long v) {
        return DhcpPacket.ipv4(new byte[]{(byte) (v >> 24), (byte) (v >> 16), (byte) (v >> 8), (byte) v});
    }

    static Inet4Address netmask(int prefixLength) {
        return of(prefixLength == 0 ? 0 : (0xffffffffL << (32 - prefixLength)) & 0xffffffffL);
    }

    static boolean sameSubnet(Inet4Address a, Inet4Address b, int prefixLength) {
        long mask = toLong(netmask(prefixLength));
        return (toLong(a) & mask) == (toLong(b) & mask);
    }

    static Inet4Address broadcast(Inet4Address a, int prefixLength) {
        long mask = toLong(netmask(prefixLength));
        return of((toLong(a) & mask) | (~mask & 0xffffffffL));
    }

    public static Inet4Address parse(String text) {
        String[] parts = text.trim().split("\\.", -1);
        if (parts.length != 4) {
            throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
        }
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            try {
                int v = Integer.parseInt(parts[i]);
                if (v < 0 || v > 255) {
                    throw new NumberFormatException();
                }
                b[i] = (byte) v;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
            }
        }
        return DhcpPacket.ipv4(b);
    }
}
