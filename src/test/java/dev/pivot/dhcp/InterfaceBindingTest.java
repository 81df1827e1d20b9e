package dev.pivot.dhcp;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class InterfaceBindingTest {

    @Test
    void refusesInterfaceNamesLinuxCannotHold() throws IOException {
        try (DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET)) {
            assertThatThrownBy(() -> InterfaceBinding.bind(channel, "a-very-long-interface-name"))
                    .isInstanceOf(IOException.class).hasMessageContaining("1..15 characters");
        }
    }

    @Test
    void namesTheJvmFlagItNeeds() throws IOException {
        assumeFalse(Object.class.getModule().isExported("sun.nio.ch", getClass().getModule()),
                "this JVM already exports sun.nio.ch, so the flag is not missing");
        try (DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET)) {
            assertThatThrownBy(() -> InterfaceBinding.bind(channel, "lo"))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("--add-exports java.base/sun.nio.ch=ALL-UNNAMED");
        }
    }
}
