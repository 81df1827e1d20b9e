package dev.pivot.ndp;

import java.util.HexFormat;
import java.util.Optional;

/**
 * The two Neighbor Discovery messages Pivot's router advertiser cares about (RFC 4861 §4.1, §4.2), as decoded
 * from or encoded for a raw ICMPv6 socket: the bytes start at the ICMPv6 type (the kernel strips the IPv6 header
 * and fills in the checksum).
 */
public sealed interface NdpMessage {

    int ROUTER_SOLICITATION = 133;
    int ROUTER_ADVERTISEMENT = 134;
    /** The option that carries the sender's link-layer (MAC) address. */
    int OPTION_SOURCE_LINK_LAYER = 1;
    int OPTION_PREFIX_INFORMATION = 3;

    /** A host asking for routers; {@code mac} is its source link-layer option, when it sent one. */
    record RouterSolicitation(Optional<String> mac) implements NdpMessage {
    }

    /**
     * A router's advertisement. Whether it configures anything on the hosts that hear it is what matters to Pivot:
     * a default router ({@code routerLifetimeSeconds > 0}), a prefix, or a pointer to DHCPv6 (managed/other).
     */
    record RouterAdvertisement(int routerLifetimeSeconds, boolean managed, boolean other, boolean hasPrefix,
                               Optional<String> mac) implements NdpMessage {

        /** What Pivot sends: not a default router, no prefix, no DHCPv6 — it only ends a host's wait. */
        public static RouterAdvertisement nothingToConfigure(Optional<String> mac) {
            return new RouterAdvertisement(0, false, false, false, mac);
        }

        /** True when the hosts that hear it configure something from it: the mark of a real IPv6 router. */
        public boolean configuresHosts() {
            return routerLifetimeSeconds > 0 || managed || other || hasPrefix;
        }
    }

    /**
     * Decodes a router solicitation or advertisement; empty for any other ICMPv6 type.
     *
     * @throws NdpDecodeException when the message is one of the two but malformed (short, bad option length)
     */
    static Optional<NdpMessage> decode(byte[] data, int length) throws NdpDecodeException {
        if (length < 4) {
            throw new NdpDecodeException("ICMPv6 message of " + length + " bytes is shorter than its header");
        }
        int type = data[0] & 0xff;
        int code = data[1] & 0xff;
        if (type != ROUTER_SOLICITATION && type != ROUTER_ADVERTISEMENT) {
            return Optional.empty();
        }
        if (code != 0) {
            throw new NdpDecodeException("ICMPv6 type " + type + " with code " + code + " (must be 0)");
        }
        int fixed = type == ROUTER_SOLICITATION ? 8 : 16;
        if (length < fixed) {
            throw new NdpDecodeException((type == ROUTER_SOLICITATION ? "router solicitation" : "router advertisement")
                    + " of " + length + " bytes is shorter than " + fixed);
        }
        Optional<String> mac = Optional.empty();
        boolean prefix = false;
        int at = fixed;
        while (at < length) {
            if (at + 2 > length) {
                throw new NdpDecodeException("option at byte " + at + " is cut short");
            }
            int optionType = data[at] & 0xff;
            int optionBytes = (data[at + 1] & 0xff) * 8;
            if (optionBytes == 0) {
                throw new NdpDecodeException("option " + optionType + " at byte " + at + " has length 0");
            }
            if (at + optionBytes > length) {
                throw new NdpDecodeException("option " + optionType + " at byte " + at + " runs past the message");
            }
            if (optionType == OPTION_SOURCE_LINK_LAYER && optionBytes == 8) {
                mac = Optional.of(HexFormat.ofDelimiter(":").formatHex(data, at + 2, at + 8));
            } else if (optionType == OPTION_PREFIX_INFORMATION) {
                prefix = true;
            }
            at += optionBytes;
        }
        if (type == ROUTER_SOLICITATION) {
            return Optional.of(new RouterSolicitation(mac));
        }
        int flags = data[5] & 0xff;
        int lifetime = ((data[6] & 0xff) << 8) | (data[7] & 0xff);
        return Optional.of(new RouterAdvertisement(lifetime, (flags & 0x80) != 0, (flags & 0x40) != 0, prefix, mac));
    }

    /** Encodes a router advertisement (hop limit, reachable time and retransmit timer unspecified: 0). */
    static byte[] encode(RouterAdvertisement ra) {
        byte[] out = new byte[16 + (ra.mac().isPresent() ? 8 : 0)];
        out[0] = (byte) ROUTER_ADVERTISEMENT;
        out[5] = (byte) ((ra.managed() ? 0x80 : 0) | (ra.other() ? 0x40 : 0));
        out[6] = (byte) (ra.routerLifetimeSeconds() >> 8);
        out[7] = (byte) ra.routerLifetimeSeconds();
        if (ra.hasPrefix()) {
            throw new IllegalArgumentException("Pivot never advertises a prefix");
        }
        if (ra.mac().isPresent()) {
            out[16] = OPTION_SOURCE_LINK_LAYER;
            out[17] = 1;
            byte[] mac = HexFormat.ofDelimiter(":").parseHex(ra.mac().get());
            if (mac.length != 6) {
                throw new IllegalArgumentException("not a MAC address: " + ra.mac().get());
            }
            System.arraycopy(mac, 0, out, 18, 6);
        }
        return out;
    }

    /** Encodes a router solicitation (Pivot sends one at start to learn whether a router is on the link). */
    static byte[] encodeSolicitation() {
        byte[] out = new byte[8];
        out[0] = (byte) ROUTER_SOLICITATION;
        return out;
    }
}
