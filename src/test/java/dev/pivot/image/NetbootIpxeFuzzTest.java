package dev.pivot.image;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzz target for the netboot.ipxe reader (nixpkgs' script, as an operator's build writes it). The corpus
 * ({@code NetbootIpxeFuzzTestInputs/}) holds nixpkgs' script and variants. {@code ./test} fuzzes it for its
 * {@code maxDuration} (profile pivot.fuzz).
 *
 * <p>The properties: any text gives a script or an {@link ImageException} naming the source; a parsed script has
 * a kernel, an init= of one word and no init=/initrd= among the other parameters.
 */
class NetbootIpxeFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void anyTextParsesOrFailsAsAnImageError(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        NetbootIpxe script;
        try {
            script = NetbootIpxe.parse(text, "fuzz.ipxe");
        } catch (ImageException e) {
            assertThat(e.getMessage()).startsWith("fuzz.ipxe");
            return;
        }
        assertThat(script.kernel()).isNotBlank();
        // init= may be relative (the kernel resolves it from /; the image check looks for it): one word of the
        // command line, though, split as the kernel splits it (ASCII white space; U+001F is a character).
        assertThat(script.init()).isNotEmpty().doesNotContainPattern("\\s");
        assertThat(script.kernelArgs()).noneMatch(a -> a.startsWith("init=") || a.startsWith("initrd="));
    }
}
