package dev.pivot.tftp;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class NetasciiReaderTest {

    static byte[] convert(byte[] input, int blockSize) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (NetasciiReader reader = new NetasciiReader(new TftpContent.MemoryContent(input).open())) {
            byte[] block = new byte[blockSize];
            int n;
            do {
                n = reader.read(block, 0, blockSize);
                out.write(block, 0, n);
            } while (n == blockSize);
        }
        return out.toByteArray();
    }

    @Test
    void lfBecomesCrLfAndCrBecomesCrNul() throws Exception {
        byte[] in = "a\nb\rc\r\n".getBytes(StandardCharsets.US_ASCII);
        assertThat(convert(in, 512)).containsExactly('a', '\r', '\n', 'b', '\r', 0, 'c', '\r', 0, '\r', '\n');
    }

    @Test
    void expansionsSplitAcrossBlocksKeepEveryBlockFull() throws Exception {
        byte[] in = "\n\n\n\n\n".getBytes(StandardCharsets.US_ASCII);
        // 10 output bytes in 3-byte blocks: 3, 3, 3, 1.
        assertThat(convert(in, 3)).containsExactly('\r', '\n', '\r', '\n', '\r', '\n', '\r', '\n', '\r', '\n');
    }

    @Test
    void largeInputCrossingTheInternalChunkConvertsExactly() throws Exception {
        byte[] in = new byte[20000];
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < in.length; i++) {
            in[i] = (byte) (i % 7 == 0 ? '\n' : 'x');
            expected.append(i % 7 == 0 ? "\r\n" : "x");
        }
        assertThat(new String(convert(in, 512), StandardCharsets.US_ASCII)).isEqualTo(expected.toString());
    }

    @Test
    void emptyInputGivesEmptyOutput() throws Exception {
        assertThat(convert(new byte[0], 512)).isEmpty();
    }
}
