package dev.pivot.dhcp;

import dev.pivot.boot.MacAddress;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * One DHCP / BOOTP message (RFC 2131 §2, options per RFC 2132). Options keep their order; an option sent in
 * several pieces is joined (RFC 3396). Overloaded sname/file fields (option 52) are read into the options, and
 * sname/file are then empty.
 *
 * @param op      1 = request (client → server), 2 = reply
 * @param chaddr  the 16-byte client hardware address field; only the first hlen bytes are the address
 * @param options option code → value, in the order read or added
 */
public record DhcpPacket(int op, int htype, int hlen, int hops, int xid, int secs, int flags,
                         Inet4Address ciaddr, Inet4Address yiaddr, Inet4Address siaddr, Inet4Address giaddr,
                         byte[] chaddr, String sname, String file, Map<Integer, byte[]> options) {

    public static final int BOOTREQUEST = 1;
    public static final int BOOTREPLY = 2;
    public static final int MAGIC_COOKIE = 0x63825363;
    /** Fixed header before the magic cookie (RFC 2131 figure 1). */
    static final int HEADER = 236;
    /** Header + cookie: the smallest DHCP packet. */
    static final int MIN_LENGTH = HEADER + 4;
    /** Anything longer than this is not a DHCP packet from a boot ROM or a DHCP client: refused. */
    public static final int MAX_LENGTH = 16384;
    /** BOOTP's minimum message size; some old relays and ROMs drop shorter packets. */
    static final int MIN_ENCODED = 300;
    public static final int BROADCAST_FLAG = 0x8000;
    public static final Inet4Address ZERO = ipv4(new byte[4]);
    public static final Inet4Address BROADCAST = ipv4(new byte[]{-1, -1, -1, -1});

    public DhcpPacket {
        if (chaddr.length != 16) {
            throw new IllegalArgumentException("chaddr must be 16 bytes, got " + chaddr.length);
        }
        chaddr = chaddr.clone();
        LinkedHashMap<Integer, byte[]> copy = new LinkedHashMap<>();
        options.forEach((code, value) -> copy.put(code, value.clone()));
        options = Collections.unmodifiableMap(copy);
        sname = sname == null ? "" : sname;
        file = file == null ? "" : file;
    }

    // ---------------------------------------------------------------- decode

    /** Reads a packet from the first {@code length} bytes of {@code data}. */
    public static DhcpPacket decode(byte[] data, int length) throws DhcpDecodeException {
        if (length > MAX_LENGTH) {
            throw new DhcpDecodeException("giant packet: over " + MAX_LENGTH + " bytes");
        }
        if (length < MIN_LENGTH) {
            throw new DhcpDecodeException("truncated: " + length + " bytes, a DHCP packet has at least " + MIN_LENGTH);
        }
        ByteBuffer b = ByteBuffer.wrap(data, 0, length);
        int op = u8(b);
        if (op != BOOTREQUEST && op != BOOTREPLY) {
            throw new DhcpDecodeException("op " + op + " is neither BOOTREQUEST (1) nor BOOTREPLY (2)");
        }
        int htype = u8(b);
        int hlen = u8(b);
        if (hlen == 0 || hlen > 16) {
            throw new DhcpDecodeException("hlen " + hlen + " is outside 1..16");
        }
        int hops = u8(b);
        int xid = b.getInt();
        int secs = Short.toUnsignedInt(b.getShort());
        int flags = Short.toUnsignedInt(b.getShort());
        Inet4Address ciaddr = ipv4(b);
        Inet4Address yiaddr = ipv4(b);
        Inet4Address siaddr = ipv4(b);
        Inet4Address giaddr = ipv4(b);
        byte[] chaddr = bytes(b, 16);
        byte[] snameField = bytes(b, 64);
        byte[] fileField = bytes(b, 128);
        int cookie = b.getInt();
        if (cookie != MAGIC_COOKIE) {
            throw new DhcpDecodeException(String.format("magic cookie 0x%08x, expected 0x63825363 (plain BOOTP?)", cookie));
        }
        LinkedHashMap<Integer, ByteArrayOutputStream> parts = new LinkedHashMap<>();
        readOptions(data, MIN_LENGTH, length, "options", parts, true);
        String sname = cString(snameField);
        String file = cString(fileField);
        ByteArrayOutputStream overloadValue = parts.get(DhcpOption.OVERLOAD);
        if (overloadValue != null) {
            byte[] v = overloadValue.toByteArray();
            if (v.length != 1 || v[0] < 1 || v[0] > 3) {
                throw new DhcpDecodeException("option 52 (overload) must be one byte 1..3, got " + hex(v));
            }
            // RFC 2131 §4.1: file first, then sname.
            if ((v[0] & 1) != 0) {
                readOptions(fileField, 0, fileField.length, "file field", parts, false);
                file = "";
            }
            if ((v[0] & 2) != 0) {
                readOptions(snameField, 0, snameField.length, "sname field", parts, false);
                sname = "";
            }
        }
        LinkedHashMap<Integer, byte[]> options = new LinkedHashMap<>();
        parts.forEach((code, value) -> options.put(code, value.toByteArray()));
        return new DhcpPacket(op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr,
                chaddr, sname, file, options);
    }

    public static DhcpPacket decode(byte[] data) throws DhcpDecodeException {
        return decode(data, data.length);
    }

    private static void readOptions(byte[] data, int from, int to, String where,
                                    Map<Integer, ByteArrayOutputStream> parts, boolean mayOverload)
            throws DhcpDecodeException {
        int i = from;
        while (i < to) {
            int code = data[i] & 0xff;
            if (code == DhcpOption.END) {
                return;
            }
            if (code == DhcpOption.PAD) {
                i++;
                continue;
            }
            if (i + 1 >= to) {
                throw new DhcpDecodeException("option " + code + " in " + where + " at offset " + i + " has no length byte");
            }
            int len = data[i + 1] & 0xff;
            if (i + 2 + len > to) {
                throw new DhcpDecodeException("option " + code + " in " + where + " at offset " + i + " has length " + len
                        + ", past the end (" + (to - i - 2) + " bytes left)");
            }
            if (code == DhcpOption.OVERLOAD && !mayOverload) {
                throw new DhcpDecodeException("option 52 (overload) inside the overloaded " + where + " (a loop)");
            }
            parts.computeIfAbsent(code, c -> new ByteArrayOutputStream()).write(data, i + 2, len);
            i += 2 + len;
        }
        // A missing END is tolerated: several ROMs pad with zeros instead, and nothing is ambiguous.
    }

    // ---------------------------------------------------------------- encode

    /** The wire form: header, cookie, options (53 first, long ones split in 255-byte pieces), END, padded to 300. */
    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(576);
        ByteBuffer h = ByteBuffer.allocate(MIN_LENGTH);
        h.put((byte) op).put((byte) htype).put((byte) hlen).put((byte) hops).putInt(xid)
                .putShort((short) secs).putShort((short) flags)
                .put(ciaddr.getAddress()).put(yiaddr.getAddress()).put(siaddr.getAddress()).put(giaddr.getAddress())
                .put(chaddr).put(field(sname, 64, "sname")).put(field(file, 128, "file")).putInt(MAGIC_COOKIE);
        out.writeBytes(h.array());
        byte[] type = options.get(DhcpOption.MESSAGE_TYPE);
        if (type != null) {
            writeOption(out, DhcpOption.MESSAGE_TYPE, type);
        }
        options.forEach((code, value) -> {
            if (code != DhcpOption.MESSAGE_TYPE && code != DhcpOption.OVERLOAD && code != DhcpOption.PAD
                    && code != DhcpOption.END) {
                writeOption(out, code, value);
            }
        });
        out.write(DhcpOption.END);
        while (out.size() < MIN_ENCODED) {
            out.write(DhcpOption.PAD);
        }
        return out.toByteArray();
    }

    private static void writeOption(ByteArrayOutputStream out, int code, byte[] value) {
        int at = 0;
        do {
            int n = Math.min(255, value.length - at);
            out.write(code);
            out.write(n);
            out.write(value, at, n);
            at += n;
        } while (at < value.length);
    }

    private static byte[] field(String text, int size, String name) {
        byte[] raw = text.getBytes(StandardCharsets.ISO_8859_1);
        // RFC 2131 §2: sname and file are NUL-terminated, so what we send keeps one byte for the NUL. (Requests
        // that fill the field to the last byte are still decoded, whole: being lenient costs nothing there.)
        if (raw.length >= size) {
            throw new IllegalArgumentException(name + " '" + text + "' does not fit in " + (size - 1) + " bytes");
        }
        return Arrays.copyOf(raw, size);
    }

    // ---------------------------------------------------------------- reading options

    public Optional<byte[]> option(int code) {
        byte[] v = options.get(code);
        return v == null ? Optional.empty() : Optional.of(v.clone());
    }

    public boolean has(int code) {
        return options.containsKey(code);
    }

    public Optional<MessageType> messageType() {
        byte[] v = options.get(DhcpOption.MESSAGE_TYPE);
        return v == null || v.length != 1 ? Optional.empty() : MessageType.of(v[0] & 0xff);
    }

    public Optional<String> string(int code) {
        byte[] v = options.get(code);
        if (v == null) {
            return Optional.empty();
        }
        int end = v.length;
        while (end > 0 && v[end - 1] == 0) {
            end--; // some clients NUL-terminate strings
        }
        return Optional.of(new String(v, 0, end, StandardCharsets.ISO_8859_1));
    }

    public Optional<Inet4Address> address(int code) {
        byte[] v = options.get(code);
        return v == null || v.length != 4 ? Optional.empty() : Optional.of(ipv4(v));
    }

    public Optional<Integer> u16(int code) {
        byte[] v = options.get(code);
        return v == null || v.length != 2 ? Optional.empty() : Optional.of(((v[0] & 0xff) << 8) | (v[1] & 0xff));
    }

    public Optional<Long> u32(int code) {
        byte[] v = options.get(code);
        return v == null || v.length != 4 ? Optional.empty() : Optional.of(ByteBuffer.wrap(v).getInt() & 0xffffffffL);
    }

    public Optional<String> vendorClass() {
        return string(DhcpOption.VENDOR_CLASS);
    }

    /**
     * Option 77. RFC 3004 makes it a list of length-prefixed strings, but iPXE (and old Windows clients) send one
     * plain string ("iPXE"); a value that is not a consistent RFC 3004 list is read as that one string.
     */
    public List<String> userClasses() {
        byte[] v = options.get(DhcpOption.USER_CLASS);
        if (v == null || v.length == 0) {
            return List.of();
        }
        List<String> rfc3004 = new ArrayList<>();
        int i = 0;
        while (i < v.length) {
            int len = v[i] & 0xff;
            if (len == 0 || i + 1 + len > v.length) {
                return List.of(new String(v, StandardCharsets.ISO_8859_1));
            }
            rfc3004.add(new String(v, i + 1, len, StandardCharsets.ISO_8859_1));
            i += 1 + len;
        }
        return List.copyOf(rfc3004);
    }

    /** Option 93: the client system architectures (RFC 4578 §2.1), a list of 16-bit numbers. */
    public List<Integer> clientArchitectures() {
        byte[] v = options.get(DhcpOption.CLIENT_ARCH);
        if (v == null) {
            return List.of();
        }
        List<Integer> archs = new ArrayList<>();
        for (int i = 0; i + 1 < v.length; i += 2) {
            archs.add(((v[i] & 0xff) << 8) | (v[i + 1] & 0xff));
        }
        return List.copyOf(archs);
    }

    /**
     * Sub-options of an encapsulated option (43 vendor-specific, 175 iPXE, 82 relay agent). Reading stops at END
     * or at the first sub-option that does not fit, so a sloppy vendor blob never fails the whole packet.
     */
    public Map<Integer, byte[]> encapsulated(int code) {
        byte[] v = options.get(code);
        if (v == null) {
            return Map.of();
        }
        LinkedHashMap<Integer, byte[]> subs = new LinkedHashMap<>();
        int i = 0;
        while (i < v.length) {
            int sub = v[i] & 0xff;
            if (sub == DhcpOption.END) {
                break;
            }
            if (sub == DhcpOption.PAD) {
                i++;
                continue;
            }
            if (i + 1 >= v.length || i + 2 + (v[i + 1] & 0xff) > v.length) {
                break;
            }
            int len = v[i + 1] & 0xff;
            subs.put(sub, Arrays.copyOfRange(v, i + 2, i + 2 + len));
            i += 2 + len;
        }
        return Collections.unmodifiableMap(subs);
    }

    public boolean broadcastFlag() {
        return (flags & BROADCAST_FLAG) != 0;
    }

    /** The Ethernet address in chaddr, when htype is 1 (Ethernet) and hlen 6. */
    public Optional<MacAddress> ethernetMac() {
        return htype == 1 && hlen == 6 ? Optional.of(MacAddress.of(Arrays.copyOf(chaddr, 6))) : Optional.empty();
    }

    @Override
    public byte[] chaddr() {
        return chaddr.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DhcpPacket p && Arrays.equals(encode(), p.encode());
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }

    @Override
    public String toString() {
        StringJoiner opts = new StringJoiner(" ");
        options.forEach((code, value) -> opts.add(code + "=" + hex(value)));
        return "DhcpPacket[op=" + op + " xid=" + Integer.toHexString(xid) + " type=" + messageType().orElse(null)
                + " chaddr=" + HexFormat.of().formatHex(chaddr, 0, Math.min(hlen, 16))
                + " ciaddr=" + ciaddr.getHostAddress() + " yiaddr=" + yiaddr.getHostAddress()
                + " siaddr=" + siaddr.getHostAddress() + " giaddr=" + giaddr.getHostAddress()
                + " flags=" + Integer.toHexString(flags) + " sname='" + sname + "' file='" + file + "' " + opts + "]";
    }

    // ---------------------------------------------------------------- building

    public static Builder builder() {
        return new Builder();
    }

    /** A builder seeded with this packet's fields. */
    public Builder toBuilder() {
        Builder b = new Builder().op(op).htype(htype).hlen(hlen).hops(hops).xid(xid).secs(secs).flags(flags)
                .ciaddr(ciaddr).yiaddr(yiaddr).siaddr(siaddr).giaddr(giaddr).chaddr(chaddr).sname(sname).file(file);
        options.forEach(b::option);
        return b;
    }

    /** Mutable, for composing replies and test packets. */
    public static final class Builder {
        private int op = BOOTREQUEST;
        private int htype = 1;
        private int hlen = 6;
        private int hops;
        private int xid;
        private int secs;
        private int flags;
        private Inet4Address ciaddr = ZERO;
        private Inet4Address yiaddr = ZERO;
        private Inet4Address siaddr = ZERO;
        private Inet4Address giaddr = ZERO;
        private byte[] chaddr = new byte[16];
        private String sname = "";
        private String file = "";
        private final LinkedHashMap<Integer, byte[]> options = new LinkedHashMap<>();

        public Builder op(int v) { op = v; return this; }
        public Builder htype(int v) { htype = v; return this; }
        public Builder hlen(int v) { hlen = v; return this; }
        public Builder hops(int v) { hops = v; return this; }
        public Builder xid(int v) { xid = v; return this; }
        public Builder secs(int v) { secs = v; return this; }
        public Builder flags(int v) { flags = v; return this; }
        public Builder ciaddr(Inet4Address v) { ciaddr = v; return this; }
        public Builder yiaddr(Inet4Address v) { yiaddr = v; return this; }
        public Builder siaddr(Inet4Address v) { siaddr = v; return this; }
        public Builder giaddr(Inet4Address v) { giaddr = v; return this; }
        public Builder sname(String v) { sname = v; return this; }
        public Builder file(String v) { file = v; return this; }

        public Builder chaddr(byte[] v) {
            chaddr = Arrays.copyOf(v, 16);
            return this;
        }

        public Builder mac(MacAddress mac) {
            htype = 1;
            hlen = 6;
            return chaddr(mac.bytes());
        }

        public Builder option(int code, byte[] value) {
            options.put(code, value.clone());
            return this;
        }

        public Builder option(int code, String value) {
            return option(code, value.getBytes(StandardCharsets.ISO_8859_1));
        }

        public Builder option(int code, InetAddress... addresses) {
            ByteArrayOutputStream v = new ByteArrayOutputStream();
            for (InetAddress a : addresses) {
                v.writeBytes(a.getAddress());
            }
            return option(code, v.toByteArray());
        }

        public Builder optionU32(int code, long value) {
            return option(code, ByteBuffer.allocate(4).putInt((int) value).array());
        }

        public Builder optionU16(int code, int value) {
            return option(code, new byte[]{(byte) (value >> 8), (byte) value});
        }

        public Builder type(MessageType type) {
            return option(DhcpOption.MESSAGE_TYPE, new byte[]{(byte) type.code});
        }

        public Builder remove(int code) {
            options.remove(code);
            return this;
        }

        public DhcpPacket build() {
            return new DhcpPacket(op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr,
                    sname, file, options);
        }
    }

    // ---------------------------------------------------------------- helpers

    static Inet4Address ipv4(byte[] four) {
        try {
            return (Inet4Address) InetAddress.getByAddress(four);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IPv4 address: " + hex(four), e);
        }
    }

    private static Inet4Address ipv4(ByteBuffer b) {
        return ipv4(bytes(b, 4));
    }

    private static byte[] bytes(ByteBuffer b, int n) {
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    private static int u8(ByteBuffer b) {
        return b.get() & 0xff;
    }

    private static String cString(byte[] field) {
        int end = 0;
        while (end < field.length && field[end] != 0) {
            end++;
        }
        return new String(field, 0, end, StandardCharsets.ISO_8859_1);
    }

    static String hex(byte[] v) {
        return HexFormat.of().formatHex(v);
    }
}
