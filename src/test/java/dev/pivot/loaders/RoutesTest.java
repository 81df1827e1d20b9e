package dev.pivot.loaders;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.MacAddress;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class RoutesTest {

    static final MacAddress MAC = MacAddress.parse("52:54:00:12:34:56");

    @Test
    void baseUrlLeavesOutPort80AndBracketsIpv6() throws Exception {
        assertThat(Routes.baseUrl(InetAddress.getByName("10.0.0.1"), 80)).isEqualTo("http://10.0.0.1");
        assertThat(Routes.baseUrl(InetAddress.getByName("10.0.0.1"), 8080)).isEqualTo("http://10.0.0.1:8080");
        assertThat(Routes.baseUrl(InetAddress.getByName("fe80::1%1"), 8080)).isEqualTo("http://[fe80:0:0:0:0:0:0:1]:8080");
        assertThat(Routes.baseUrl("boot.example:8080")).isEqualTo("http://boot.example:8080");
    }

    @Test
    void machineFacingPaths() {
        Artifact kernel = new Artifact("a".repeat(64), 1, "bzImage");
        assertThat(Routes.scriptPath(MAC)).isEqualTo("/boot.ipxe?mac=52:54:00:12:34:56");
        assertThat(Routes.artifact("http://h", kernel, MAC))
                .isEqualTo("http://h/artifacts/" + "a".repeat(64) + "/bzImage?mac=52:54:00:12:34:56");
        assertThat(Routes.ipxeFilePath("ipxe.efi")).isEqualTo("/ipxe/ipxe.efi");
    }

    @Test
    void stage1ReportsToTheReportRoute() throws IOException {
        try (InputStream in = RoutesTest.class.getResourceAsStream("/dev/pivot/stage1/prelude/init")) {
            assertThat(in).isNotNull();
            assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                    .contains("\"$URL" + Routes.REPORT + "?" + Routes.MAC + "=$MAC&" + Routes.TOKEN
                            + "=$TOKEN$query\"")
                    .contains("STEPS=\"$STEPS&step=$1&status=$2&detail=$d\"");
        }
    }
}
