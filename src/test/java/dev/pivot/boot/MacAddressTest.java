package dev.pivot.boot;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MacAddressTest {

    @Test
    void parsesEveryCommonSpelling() {
        assertThat(MacAddress.parse("52:54:00:AB:cd:01").value()).isEqualTo("52:54:00:ab:cd:01");
        assertThat(MacAddress.parse("52-54-00-ab-cd-01")).isEqualTo(MacAddress.parse("525400abcd01"));
        assertThat(MacAddress.parse("525400abcd01").dashed()).isEqualTo("52-54-00-ab-cd-01");
    }

    @Test
    void roundTripsBytes() {
        byte[] bytes = {0x52, 0x54, 0x00, (byte) 0xab, (byte) 0xcd, 0x01};
        assertThat(MacAddress.of(bytes).bytes()).isEqualTo(bytes);
    }

    @Test
    void rejectsWhatIsNotAMac() {
        assertThatThrownBy(() -> MacAddress.parse("52:54:00:ab:cd")).hasMessageContaining("52:54:00:ab:cd");
        assertThatThrownBy(() -> MacAddress.parse("zz:54:00:ab:cd:01")).isInstanceOf(IllegalArgumentException.class);
    }
}
