package dev.pivot.tftp;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TftpCodecTest {

    static byte[] bytes(String withNuls) {
        return withNuls.replace('|', '\0').getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] packet(int opcode, String rest) {
        byte[] body = bytes(rest);
        byte[] out = new byte[2 + body.length];
        out[1] = (byte) opcode;
        System.arraycopy(body, 0, out, 2, body.length);
        return out;
    }

    static TftpPacket decode(byte[] b) throws MalformedPacketException {
        return TftpCodec.decode(b, b.length);
    }

    @Test
    void readRequestWithOptionsHasLowerCaseNamesInOrder() throws Exception {
        TftpPacket p = decode(packet(1, "undionly.kpxe|OCTET|BLKSIZE|1468|tsize|0|windowsize|16|"));
        assertThat(p).isInstanceOf(TftpPacket.ReadRequest.class);
        TftpPacket.ReadRequest r = (TftpPacket.ReadRequest) p;
        assertThat(r.filename()).isEqualTo("undionly.kpxe");
        assertThat(r.mode()).isEqualTo("octet");
        assertThat(r.options()).containsExactly(Map.entry("blksize", "1468"), Map.entry("tsize", "0"),
                Map.entry("windowsize", "16"));
    }

    @Test
    void repeatedOptionKeepsTheFirstAndDanglingNameIsDropped() throws Exception {
        TftpPacket.ReadRequest r = (TftpPacket.ReadRequest) decode(packet(1, "f|octet|blksize|1024|Blksize|8|tsize|"));
        assertThat(r.options()).containsExactly(Map.entry("blksize", "1024"));
    }

    @Test
    void writeRequestDecodes() throws Exception {
        assertThat(decode(packet(2, "up.bin|octet|"))).isEqualTo(new TftpPacket.WriteRequest("up.bin", "octet",
                Map.of()));
    }

    @Test
    void ackDataErrorAndOackRoundTrip() throws Exception {
        assertThat(decode(TftpCodec.encode(new TftpPacket.Ack(65535)))).isEqualTo(new TftpPacket.Ack(65535));
        assertThat(decode(TftpCodec.encode(new TftpPacket.Error(2, "read-only"))))
                .isEqualTo(new TftpPacket.Error(2, "read-only"));
        Map<String, String> options = new LinkedHashMap<>();
        options.put("blksize", "1468");
        options.put("tsize", "123");
        assertThat(decode(TftpCodec.encode(new TftpPacket.OptionAck(options))))
                .isEqualTo(new TftpPacket.OptionAck(options));
        byte[] payload = {9, 8, 7, 6, 5};
        TftpPacket.Data data = (TftpPacket.Data) decode(TftpCodec.encode(new TftpPacket.Data(7, payload, 1, 3)));
        assertThat(data.block()).isEqualTo(7);
        assertThat(data.payload()).containsExactly(8, 7, 6);
    }

    @Test
    void wireFormatOfDataAndOackIsExact() {
        assertThat(TftpCodec.encode(new TftpPacket.Data(0x1234, new byte[] {(byte) 0xAB})))
                .containsExactly(0, 3, 0x12, 0x34, 0xAB);
        assertThat(TftpCodec.encode(new TftpPacket.OptionAck(Map.of("blksize", "512"))))
                .isEqualTo(packet(6, "blksize|512|"));
        assertThat(TftpCodec.encode(new TftpPacket.Error(1, "file not found")))
                .isEqualTo(packet(5, "\u0000\u0001file not found|"));
    }

    @Test
    void errorWithoutTerminatingNulIsAccepted() throws Exception {
        assertThat(decode(packet(5, "\u0000\u0005stray"))).isEqualTo(new TftpPacket.Error(5, "stray"));
    }

    @Test
    void malformedPacketsAreRejectedWithAReason() {
        assertThatThrownBy(() -> decode(new byte[] {0})).isInstanceOf(MalformedPacketException.class)
                .hasMessageContaining("shorter than an opcode");
        assertThatThrownBy(() -> decode(packet(9, ""))).hasMessageContaining("unknown opcode 9");
        assertThatThrownBy(() -> decode(packet(1, "file-without-nul"))).hasMessageContaining("not NUL-terminated");
        assertThatThrownBy(() -> decode(packet(1, "file|"))).hasMessageContaining("without filename and mode");
        assertThatThrownBy(() -> decode(packet(1, "|octet|"))).hasMessageContaining("empty filename");
        assertThatThrownBy(() -> decode(packet(4, "\u0001"))).hasMessageContaining("ACK packet of 3 bytes");
        assertThatThrownBy(() -> decode(packet(3, ""))).hasMessageContaining("DATA packet of 2 bytes");
        assertThatThrownBy(() -> decode(new byte[0])).isInstanceOf(MalformedPacketException.class);
    }
}
