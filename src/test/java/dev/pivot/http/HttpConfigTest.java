package dev.pivot.http;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HttpConfigTest {

    static final InetAddress ANY = InetAddress.ofLiteral("0.0.0.0");

    @Test
    void defaultsToDebiansIpxeDirectoryAndTheClientsHost() {
        HttpConfig config = new HttpConfig(ANY, 80);
        assertThat(config.ipxeDir()).isEqualTo(Path.of("/usr/lib/ipxe"));
        assertThat(config.baseUrlOverride()).isEmpty();
    }

    @Test
    void baseUrlOverrideLosesTrailingSlashes() {
        HttpConfig config = new HttpConfig(ANY, 80, Optional.of("http://10.0.0.1:8080/"), Path.of("/x"));
        assertThat(config.baseUrlOverride()).contains("http://10.0.0.1:8080");
    }

    @Test
    void badValuesAreRefusedByName() {
        assertThatThrownBy(() -> new HttpConfig(ANY, 70000))
                .hasMessage("HTTP port out of range 0-65535: 70000");
        assertThatThrownBy(() -> new HttpConfig(ANY, 80, Optional.of("10.0.0.1:8080"), Path.of("/x")))
                .hasMessage("HTTP base URL must look like http://host:port, got '10.0.0.1:8080'");
        assertThatThrownBy(() -> new HttpConfig(ANY, 80, Optional.of("http://a b"), Path.of("/x")))
                .hasMessageContaining("'http://a b'");
        assertThatThrownBy(() -> new HttpConfig(ANY, 80, Optional.of("http://${x}"), Path.of("/x")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
