package dev.pivot.dhcp;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzz target for the DHCP decoder. In a plain {@code mvn test} Jazzer runs in regression mode: the seed
 * corpus (the captured client packets, as raw bytes, under
 * {@code src/test/resources/dev/pivot/dhcp/DhcpDecodeFuzzTestInputs/decodeNeverThrowsAnythingElse/}) plus any
 * crash files found earlier; quick and deterministic. {@code JAZZER_FUZZ=1 ./mvnw test -Dtest=DhcpDecodeFuzzTest}
 * fuzzes for real (coverage-guided mutations of that corpus) for at most {@code maxDuration}.
 *
 * <p>The properties: decoding any bytes either yields a packet or throws {@link DhcpDecodeException} (anything
 * else would be a bug the server only survives by its catch-all); a decoded packet re-encodes into bytes that
 * decode again; the boot decision's input ({@link ClientFacts}) can be read from it.
 */
class DhcpDecodeFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void decodeNeverThrowsAnythingElse(byte[] data) {
        DhcpPacket packet;
        try {
            packet = DhcpPacket.decode(data, data.length);
        } catch (DhcpDecodeException expected) {
            return;
        }
        ClientFacts.of(packet);
        if (packet.sname().length() >= 64 || packet.file().length() >= 128) {
            // Decoded leniently without a NUL; our encoder insists on one (RFC 2131), so there is no round trip
            // (Jazzer's second find, kept in the corpus as found-full-sname-field).
            return;
        }
        try {
            DhcpPacket again = DhcpPacket.decode(packet.encode());
            assertThat(again.chaddr()).isEqualTo(packet.chaddr());
            // Option 52 (overload) is framing: the decoder already read sname/file into the options, and encode
            // writes no overload of its own (Jazzer's first find, kept in the corpus as found-option52-overload).
            Map<Integer, byte[]> expected = new java.util.LinkedHashMap<>(packet.options());
            expected.remove(DhcpOption.OVERLOAD);
            assertThat(again.options().keySet()).isEqualTo(expected.keySet());
            expected.forEach((code, value) ->
                    assertThat(again.options().get(code)).as("option %d", code).isEqualTo(value));
        } catch (DhcpDecodeException e) {
            throw new AssertionError("a decoded packet did not survive encode/decode: " + e.getMessage(), e);
        }
    }
}
