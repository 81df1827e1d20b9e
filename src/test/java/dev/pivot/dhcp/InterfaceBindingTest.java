package dev.pivot.dhcp;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class InterfaceBindingTest {

    @Test
    void refusesInterfaceNamesLinuxCannotHold() throws IOException {
        try (DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET)) {
            assertThatThrownBy(() -> InterfaceBinding.bind(channel, "a-very-long-interface-name"))
                    .isInstanceOf(IOException.class).hasMessageContaining("1..15 characters");
        }
    }

    /**
     * Surefire runs this JVM with the flag, so a JVM without it is started here: the message must name the flag an
     * operator has to add.
     */
    @Test
    void namesTheJvmFlagItNeeds() throws Exception {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Probe.class.getName())
                .redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the probe JVM ended").isTrue();
        assertThat(output).contains("IOException: binding a socket to an interface needs the JVM flag "
                + "--add-exports java.base/sun.nio.ch=ALL-UNNAMED");
    }

    /** Binds a socket to lo in a JVM started without --add-exports and prints what happened. */
    public static final class Probe {
        public static void main(String[] args) throws IOException {
            try (DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET)) {
                InterfaceBinding.bind(channel, "lo");
                System.out.println("bound without the flag");
            } catch (IOException e) {
                System.out.println("IOException: " + e.getMessage());
            }
        }
    }
}
