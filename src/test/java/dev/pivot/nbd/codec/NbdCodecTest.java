package dev.pivot.nbd.codec;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The wire formats against the bytes proto.md spells out. */
class NbdCodecTest {

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    @Test
    void greetingIsNbdmagicIhaveoptAndFixedNewstyleWithNoZeroes() {
        assertThat(HexFormat.of().formatHex(bytes(Replies.greeting())))
                .isEqualTo("4e42444d41474943" + "49484156454f5054" + "0003");
    }

    @Test
    void requestDecodesEveryField() throws Exception {
        ByteBuffer in = ByteBuffer.wrap(HexFormat.of().parseHex(
                "25609513" + "0001" + "0000" + "1122334455667788" + "0000000000001000" + "00020000"));
        NbdRequest r = NbdRequest.decode(in);
        assertThat(r).isEqualTo(new NbdRequest(1, NbdProtocol.CMD_READ, 0x1122334455667788L, 4096, 131072));
        assertThat(in.hasRemaining()).isFalse();
        ByteBuffer again = ByteBuffer.allocate(28);
        r.encode(again);
        assertThat(again.array()).isEqualTo(HexFormat.of().parseHex(
                "25609513" + "0001" + "0000" + "1122334455667788" + "0000000000001000" + "00020000"));
    }

    @Test
    void lengthIsUnsigned() throws Exception {
        ByteBuffer in = ByteBuffer.wrap(HexFormat.of().parseHex(
                "25609513" + "0000" + "0001" + "0000000000000001" + "0000000000000000" + "ffffffff"));
        assertThat(NbdRequest.decode(in).length()).isEqualTo(0xffffffffL);
    }

    @Test
    void wrongRequestMagicShortRequestAndHugeOffsetAreMalformed() {
        assertThatThrownBy(() -> NbdRequest.decode(ByteBuffer.wrap(HexFormat.of().parseHex(
                "12560953" + "0000" + "0000" + "0000000000000001" + "0000000000000000" + "00000200"))))
                .isInstanceOf(MalformedNbdException.class).hasMessageContaining("0x12560953");
        assertThatThrownBy(() -> NbdRequest.decode(ByteBuffer.allocate(27)))
                .isInstanceOf(MalformedNbdException.class).hasMessageContaining("27 bytes");
        assertThatThrownBy(() -> NbdRequest.decode(ByteBuffer.wrap(HexFormat.of().parseHex(
                "25609513" + "0000" + "0000" + "0000000000000001" + "8000000000000000" + "00000200"))))
                .isInstanceOf(MalformedNbdException.class).hasMessageContaining("9223372036854775808");
    }

    @Test
    void withinChecksTheEndWithoutOverflow() {
        assertThat(new NbdRequest(0, 0, 0, 0, 512).within(512)).isTrue();
        assertThat(new NbdRequest(0, 0, 0, 1, 512).within(512)).isFalse();
        assertThat(new NbdRequest(0, 0, 0, 512, 0).within(512)).isTrue();
        assertThat(new NbdRequest(0, 0, 0, Long.MAX_VALUE, 0xffffffffL).within(512)).isFalse();
    }

    @Test
    void optionHeaderNeedsIhaveoptAndBoundedData() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(16);
        new OptionHeader(NbdProtocol.OPT_GO, 40).encode(b);
        assertThat(OptionHeader.decode(b.flip())).isEqualTo(new OptionHeader(7, 40));
        ByteBuffer bad = ByteBuffer.allocate(16).putLong(NbdProtocol.NBDMAGIC).putInt(7).putInt(0).flip();
        assertThatThrownBy(() -> OptionHeader.decode(bad)).isInstanceOf(MalformedNbdException.class)
                .hasMessageContaining("not IHAVEOPT");
        ByteBuffer big = ByteBuffer.allocate(16).putLong(NbdProtocol.IHAVEOPT).putInt(7).putInt(-1).flip();
        assertThatThrownBy(() -> OptionHeader.decode(big)).isInstanceOf(MalformedNbdException.class)
                .hasMessageContaining("4294967295 bytes");
    }

    @Test
    void goDataIsNameThenInfoRequests() throws Exception {
        byte[] data = HexFormat.of().parseHex("00000003" + "616263" + "0002" + "0003" + "0001");
        ExportRequest r = ExportRequest.parse(data);
        assertThat(r).isEqualTo(new ExportRequest("abc", List.of(3, 1)));
        assertThat(r.encode()).isEqualTo(data);
        assertThat(ExportRequest.parse(HexFormat.of().parseHex("00000000" + "0000")).name()).isEmpty();
    }

    @Test
    void goDataThatDoesNotAddUpIsInvalidNotMalformed() {
        assertThatThrownBy(() -> ExportRequest.parse(new byte[5]))
                .isInstanceOf(ExportRequest.InvalidOption.class);
        assertThatThrownBy(() -> ExportRequest.parse(HexFormat.of().parseHex("00000010" + "6162" + "0000")))
                .isInstanceOf(ExportRequest.InvalidOption.class).hasMessageContaining("16 bytes");
        assertThatThrownBy(() -> ExportRequest.parse(HexFormat.of().parseHex("00000001" + "61" + "0002" + "0001")))
                .isInstanceOf(ExportRequest.InvalidOption.class).hasMessageContaining("2 information requests");
        assertThatThrownBy(() -> ExportRequest.parse(HexFormat.of().parseHex("00000001" + "ff" + "0000")))
                .isInstanceOf(ExportRequest.InvalidOption.class).hasMessageContaining("UTF-8");
    }

    @Test
    void optionRepliesCarryTheReplyMagicOptionTypeAndLength() {
        assertThat(HexFormat.of().formatHex(bytes(Replies.ack(NbdProtocol.OPT_GO))))
                .isEqualTo("0003e889045565a9" + "00000007" + "00000001" + "00000000");
        assertThat(HexFormat.of().formatHex(bytes(Replies.infoExport(NbdProtocol.OPT_GO, 0x10000, (short) 0x0107))))
                .isEqualTo("0003e889045565a9" + "00000007" + "00000003" + "0000000c" + "0000" + "0000000000010000"
                        + "0107");
        assertThat(HexFormat.of().formatHex(bytes(Replies.server("ab"))))
                .isEqualTo("0003e889045565a9" + "00000003" + "00000002" + "00000006" + "00000002" + "6162");
        assertThat(HexFormat.of().formatHex(bytes(Replies.error(NbdProtocol.OPT_INFO, NbdProtocol.REP_ERR_UNKNOWN, ""))))
                .isEqualTo("0003e889045565a9" + "00000006" + "80000006" + "00000000");
        assertThat(HexFormat.of().formatHex(bytes(Replies.infoBlockSize(7, 1, 4096, 1 << 25))))
                .isEqualTo("0003e889045565a9" + "00000007" + "00000003" + "0000000e" + "0003" + "00000001"
                        + "00001000" + "02000000");
    }

    @Test
    void exportNameReplyHasZeroesUnlessTheClientDeclinedThem() {
        assertThat(Replies.exportNameReply(512, (short) 3, false).remaining()).isEqualTo(134);
        assertThat(HexFormat.of().formatHex(bytes(Replies.exportNameReply(512, (short) 3, true))))
                .isEqualTo("0000000000000200" + "0003");
    }

    @Test
    void simpleReplyIsMagicErrorCookie() {
        ByteBuffer b = ByteBuffer.allocate(16);
        Replies.simpleReply(b, NbdProtocol.EPERM, 42);
        assertThat(HexFormat.of().formatHex(b.array())).isEqualTo("67446698" + "00000001" + "000000000000002a");
    }
}
