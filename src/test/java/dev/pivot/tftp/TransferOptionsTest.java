package dev.pivot.tftp;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TransferOptionsTest {

    static final TftpConfig CONFIG = TftpConfig.defaults(InetAddress.getLoopbackAddress(), 0, List.of());

    static Map<String, String> options(String... pairs) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            map.put(pairs[i], pairs[i + 1]);
        }
        return map;
    }

    @Test
    void noOptionsMeansRfc1350DefaultsAndNoOack() throws Exception {
        TransferOptions o = TransferOptions.negotiate(Map.of(), CONFIG, 1000);
        assertThat(o.blockSize()).isEqualTo(512);
        assertThat(o.windowSize()).isEqualTo(1);
        assertThat(o.timeoutSeconds()).isEmpty();
        assertThat(o.acknowledged()).isEmpty();
    }

    @Test
    void grantedOptionsAreEchoedInTheClientsOrder() throws Exception {
        TransferOptions o = TransferOptions.negotiate(
                options("tsize", "0", "blksize", "1024", "timeout", "3", "windowsize", "8"), CONFIG, 4242);
        assertThat(o.blockSize()).isEqualTo(1024);
        assertThat(o.windowSize()).isEqualTo(8);
        assertThat(o.timeoutSeconds()).hasValue(3);
        assertThat(o.acknowledged()).containsExactly(Map.entry("tsize", "4242"), Map.entry("blksize", "1024"),
                Map.entry("timeout", "3"), Map.entry("windowsize", "8"));
    }

    @Test
    void blksizeAndWindowsizeAreClampedToTheConfiguredMaxima() throws Exception {
        TransferOptions o = TransferOptions.negotiate(options("blksize", "65464", "windowsize", "65535"), CONFIG, 1);
        assertThat(o.blockSize()).isEqualTo(1468);
        assertThat(o.windowSize()).isEqualTo(64);
        assertThat(o.acknowledged()).containsEntry("blksize", "1468").containsEntry("windowsize", "64");
        TransferOptions big = TransferOptions.negotiate(options("blksize", "99999999999999999999999"),
                CONFIG.withMaxBlockSize(65464), 1);
        assertThat(big.blockSize()).isEqualTo(65464);
    }

    @Test
    void theWindowsMemoryIsCappedWhateverOrderTheOptionsCameIn() throws Exception {
        TftpConfig big = CONFIG.withMaxBlockSize(65464);
        TransferOptions o = TransferOptions.negotiate(options("windowsize", "64", "blksize", "65464"), big, 1);
        assertThat(o.blockSize()).isEqualTo(65464);
        assertThat(o.windowSize()).as("96 KiB / 65464").isEqualTo(1);
        assertThat(o.acknowledged()).containsEntry("windowsize", "1");
        TftpConfig tight = CONFIG.withLimits(new TftpLimits(10, 2, 65464, java.time.Duration.ofSeconds(6)));
        TransferOptions t = TransferOptions.negotiate(options("blksize", "1468", "windowsize", "64"), tight, 1);
        assertThat(t.windowSize()).isEqualTo(65464 / 1468);
        assertThat((long) t.windowSize() * t.blockSize()).isLessThanOrEqualTo(65464);
    }

    @Test
    void smallestBlksizeIsGranted() throws Exception {
        assertThat(TransferOptions.negotiate(options("blksize", "8"), CONFIG, 1).blockSize()).isEqualTo(8);
    }

    @Test
    void nonsenseValuesAreRefused() {
        assertThatThrownBy(() -> TransferOptions.negotiate(options("blksize", "7"), CONFIG, 1))
                .isInstanceOf(TransferOptions.Refused.class).hasMessageContaining("blksize 7");
        assertThatThrownBy(() -> TransferOptions.negotiate(options("blksize", "abc"), CONFIG, 1))
                .hasMessageContaining("'abc' is not a number");
        assertThatThrownBy(() -> TransferOptions.negotiate(options("windowsize", "0"), CONFIG, 1))
                .hasMessageContaining("windowsize 0");
        assertThatThrownBy(() -> TransferOptions.negotiate(options("tsize", "-1"), CONFIG, 1))
                .hasMessageContaining("tsize");
    }

    @Test
    void unknownOptionsAndUnacceptableTimeoutsAreIgnored() throws Exception {
        TransferOptions o = TransferOptions.negotiate(options("multicast", "", "timeout", "0", "x", "y"), CONFIG, 5);
        assertThat(o.acknowledged()).isEmpty();
        assertThat(o.timeoutSeconds()).isEmpty();
        assertThat(TransferOptions.negotiate(options("timeout", "256"), CONFIG, 5).acknowledged()).isEmpty();
    }

    @Test
    void tsizeIsLeftOutForEmptyAndUnknownSizes() throws Exception {
        assertThat(TransferOptions.negotiate(options("tsize", "0"), CONFIG, 0).acknowledged()).isEmpty();
        assertThat(TransferOptions.negotiate(options("tsize", "0"), CONFIG, -1).acknowledged()).isEmpty();
    }
}
