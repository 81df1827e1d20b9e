package dev.pivot.dhcp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Real client packets captured in a test namespace (see src/test/resources/dhcp/README.md). */
final class Packets {

    private Packets() {
    }

    static byte[] raw(String name) {
        try (InputStream in = Packets.class.getResourceAsStream("/dhcp/" + name + ".hex")) {
            if (in == null) {
                throw new IllegalStateException("missing test resource /dhcp/" + name + ".hex");
            }
            return HexFormat.of().parseHex(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static DhcpPacket decoded(String name) {
        try {
            return DhcpPacket.decode(raw(name));
        } catch (DhcpDecodeException e) {
            throw new IllegalStateException(name + ": " + e.getMessage(), e);
        }
    }
}
