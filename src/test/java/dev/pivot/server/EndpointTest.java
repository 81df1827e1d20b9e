package dev.pivot.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** `--interface`: an interface without an IPv4 address is told apart from one that does not exist. */
class EndpointTest {

    @TempDir
    Path sysClassNet;

    @Test
    void anInterfaceWithoutAnyAddressSaysSoNotNoSuchInterface() throws IOException {
        // Java lists no interface without addresses; Linux's /sys/class/net lists it (here a stand-in for it).
        Files.createDirectories(sysClassNet.resolve("pvt-noaddr0"));
        assertThatThrownBy(() -> PivotServer.Endpoint.onInterface("pvt-noaddr0", sysClassNet))
                .hasMessage("--interface pvt-noaddr0: has no IPv4 address");
    }

    @Test
    void anInterfaceThatDoesNotExistSaysSo() {
        assertThatThrownBy(() -> PivotServer.Endpoint.onInterface("pvt-nothere0", sysClassNet))
                .hasMessage("--interface pvt-nothere0: no such interface");
        assertThatThrownBy(() -> PivotServer.Endpoint.onInterface("../lo", sysClassNet))
                .hasMessage("--interface ../lo: no such interface");
    }

    @Test
    void loopbackHasItsIpv4Address() throws IOException {
        assertThat(PivotServer.Endpoint.onInterface("lo", sysClassNet).address().getHostAddress())
                .isEqualTo("127.0.0.1");
    }
}
