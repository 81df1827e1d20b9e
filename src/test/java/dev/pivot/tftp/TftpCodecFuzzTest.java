package dev.pivot.tftp;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fuzzes the request and option parser with Jazzer. Without JAZZER_FUZZ=1 (the normal {@code mvn test}) Jazzer
 * runs the seed inputs in src/test/resources/dev/pivot/tftp/TftpCodecFuzzTestInputs/… in regression mode: real
 * requests of curl, tftp-hpa, atftp, busybox and PXE ROMs plus the malformed shapes found so far. With
 * JAZZER_FUZZ=1 it mutates from them for at most 30 s (measured: ~500,000 inputs in 31 s, JDK 25, no finding); its
 * working corpus goes to .cifuzz-corpus/ (ignored by git). {@link TftpCodecMutationTest} mutates the same seeds
 * without the fuzzing engine, so every CI run checks many thousands of inputs.
 *
 * <p>The property: decoding any bytes either yields a packet or throws {@link MalformedPacketException}; a decoded
 * request negotiates or is refused with {@link TransferOptions.Refused}; and a decoded packet re-encodes to bytes
 * that decode to the same packet.
 */
class TftpCodecFuzzTest {

    static final TftpConfig CONFIG = TftpConfig.defaults(InetAddress.getLoopbackAddress(), 0, List.of(Path.of(".")));

    @FuzzTest(maxDuration = "20s")
    void decodeNeverThrowsAnythingButMalformedPacket(byte[] input) {
        check(input);
    }

    /** The property, shared with {@link TftpCodecMutationTest}. */
    static void check(byte[] input) {
        TftpPacket packet;
        try {
            packet = TftpCodec.decode(input, input.length);
        } catch (MalformedPacketException expected) {
            return;
        }
        if (packet instanceof TftpPacket.ReadRequest request) {
            try {
                TransferOptions options = TransferOptions.negotiate(request.options(), CONFIG, input.length);
                assertThat(options.blockSize()).isBetween(TransferOptions.MIN_BLOCK_SIZE, CONFIG.maxBlockSize());
                assertThat(options.windowSize()).isBetween(1, CONFIG.maxWindowSize());
            } catch (TransferOptions.Refused refused) {
                assertThat(refused.getMessage()).isNotBlank();
            }
        }
        byte[] again = TftpCodec.encode(packet);
        try {
            assertThat(TftpCodec.decode(again, again.length)).usingRecursiveComparison().isEqualTo(packet);
        } catch (MalformedPacketException e) {
            throw new AssertionError("re-encoded " + packet + " does not decode: " + e.getMessage(), e);
        }
    }
}
