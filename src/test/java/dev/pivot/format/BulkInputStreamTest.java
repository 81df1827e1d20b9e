package dev.pivot.format;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BulkInputStreamTest {

    /** Hands out the given bytes at most {@code chunk} at a time, as the real decoders do. */
    private static BulkInputStream over(byte[] bytes, int chunk) {
        return new BulkInputStream() {
            private int at;

            @Override
            public int read(byte[] b, int off, int len) {
                if (at == bytes.length) {
                    return -1;
                }
                int n = Math.min(Math.min(len, chunk), bytes.length - at);
                System.arraycopy(bytes, at, b, off, n);
                at += n;
                return n;
            }
        };
    }

    @Test
    void singleByteReadsGiveUnsignedBytesThenEndOfStream() throws Exception {
        BulkInputStream in = over(new byte[] {0, 1, (byte) 0x80, (byte) 0xff}, 3);

        assertThat(new int[] {in.read(), in.read(), in.read(), in.read(), in.read(), in.read()})
                .containsExactly(0, 1, 0x80, 0xff, -1, -1);
    }

    @Test
    void singleAndBulkReadsShareOnePosition() throws Exception {
        byte[] bytes = new byte[10];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i + 1);
        }
        BulkInputStream in = over(bytes, 4);

        assertThat(in.read()).isEqualTo(1);
        assertThat(in.readNBytes(8)).containsExactly(2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(in.read()).isEqualTo(10);
        assertThat(in.read()).isEqualTo(-1);
    }
}
