package dev.pivot.nbd.codec;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes what the server parses from the network with Jazzer: request headers, option headers and the data of
 * NBD_OPT_INFO/GO. Without JAZZER_FUZZ=1 (the normal {@code mvn test}) the seeds in
 * src/test/resources/dev/pivot/nbd/codec/NbdCodecFuzzTestInputs/… run in regression mode (requests of the
 * kernel's client and libnbd, and malformed shapes); with JAZZER_FUZZ=1 it mutates from them for at most 30 s.
 *
 * <p>The property: any bytes either decode or throw the codec's own exception (never another one), and what
 * decodes re-encodes to the same bytes.
 */
class NbdCodecFuzzTest {

    @FuzzTest(maxDuration = "30s")
    void parseNeverThrowsAnythingButMalformed(byte[] input) {
        check(input);
    }

    static void check(byte[] input) {
        try {
            NbdRequest r = NbdRequest.decode(ByteBuffer.wrap(input));
            ByteBuffer again = ByteBuffer.allocate(NbdProtocol.REQUEST_BYTES);
            r.encode(again);
            assertThat(again.array()).isEqualTo(Arrays.copyOf(input, NbdProtocol.REQUEST_BYTES));
            assertThat(r.offset()).isNotNegative();
            assertThat(r.length()).isBetween(0L, 0xffffffffL);
        } catch (MalformedNbdException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
        try {
            OptionHeader h = OptionHeader.decode(ByteBuffer.wrap(input));
            assertThat(h.length()).isBetween(0, NbdProtocol.MAX_OPTION_DATA);
        } catch (MalformedNbdException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
        try {
            ExportRequest e = ExportRequest.parse(input);
            assertThat(e.name().length()).isLessThanOrEqualTo(NbdProtocol.MAX_STRING);
            assertThat(ExportRequest.parse(e.encode())).isEqualTo(e);
        } catch (ExportRequest.InvalidOption expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }
}
