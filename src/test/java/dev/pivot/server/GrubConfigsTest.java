package dev.pivot.server;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.Artifact;
import dev.pivot.boot.ArtifactSource;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.BootSecrets;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The per-machine grub.cfg GRUB reads over TFTP: kernel and initrds over HTTP from this server's address (then its
 * peers', then over TFTP from the same) when the GRUB served has the http module, over TFTP when it has not.
 */
class GrubConfigsTest {

    private static final String BASE = PxelinuxConfigsTest.BASE;
    private static final String PEER = "http://10.0.0.2";
    private static final MacAddress MAC = MacAddress.parse("52:54:00:ab:cd:01");
    private static final String CFG = "grub/machine/" + MAC + ".cfg";
    private static final String A = PxelinuxConfigsTest.A, B = PxelinuxConfigsTest.B, C = PxelinuxConfigsTest.C;

    private final List<BootEvent> events = new CopyOnWriteArrayList<>();
    private final BootSecrets secrets = BootSecrets.ephemeral();

    private GrubConfigs configs(boolean overHttp) {
        ArtifactSource none = new ArtifactSource() {
            @Override
            public Optional<Artifact> find(String sha256) {
                return Optional.empty();
            }

            @Override
            public Path path(Artifact artifact) {
                throw new AssertionError("no artifact is read to render a config");
            }
        };
        GrubConfigs configs = new GrubConfigs(mac -> Optional.of(PxelinuxConfigsTest.SPEC), none, new AddressBook(),
                events::add, secrets, BASE, "10.0.0.1", overHttp);
        configs.peers(() -> List.of(PEER, "https://10.0.0.3", "http://10.0.0.4/sub"));
        return configs;
    }

    private String render(GrubConfigs configs) throws Exception {
        return new String(configs.generate(CFG, InetAddress.getByName("10.0.0.100")).orElseThrow(),
                StandardCharsets.UTF_8);
    }

    @Test
    void aGrubWithTheHttpModuleLoadsKernelAndInitrdsOverHttpFromThisServerThenItsPeersThenOverTftp() throws Exception {
        String cfg = render(configs(true));
        String token = cfg.replaceFirst("(?s).*&token=([0-9a-f]+)'.*", "$1");
        assertThat(secrets.verify(MAC, token)).as("the config's token is this machine's").isTrue();
        String q = "?mac=" + MAC + "&token=" + token;
        assertThat(cfg.lines()).anyMatch(l -> l.startsWith("if linux '(http,10.0.0.1:8080)/artifacts/" + A + "/bzImage"
                        + q + "' "))
                .anyMatch(l -> l.startsWith("elif linux '(http,10.0.0.2)/artifacts/" + A + "/bzImage" + q + "' "))
                .contains("if initrd '(http,10.0.0.1:8080)/artifacts/" + B + "/initrd" + q + "' '(http,10.0.0.1:8080)"
                        + "/artifacts/" + C + "/pivot.cpio.gz" + q + "'; then true;");
        List<String> kernelFrom = cfg.lines().filter(l -> l.contains("linux '"))
                .map(l -> l.replaceFirst(".*linux '(\\([a-z]+,[0-9.:]+\\)).*", "$1")).toList();
        assertThat(kernelFrom).as("HTTP from each server first, then TFTP from each, in the same order")
                .containsExactly("(http,10.0.0.1:8080)", "(http,10.0.0.2)", "(tftp,10.0.0.1)", "(tftp,10.0.0.2)");
        assertThat(cfg).contains("elif initrd '(tftp,10.0.0.1)/artifacts/" + B + "/initrd' '(tftp,10.0.0.1)/artifacts/"
                + C + "/pivot.cpio.gz'; then true;");
        assertThat(cfg).as("no peer GRUB cannot reach over plain HTTP at the root")
                .doesNotContain("10.0.0.3").doesNotContain("10.0.0.4")
                .contains("pivot.url=" + BASE).contains("pivot.fallback=" + PEER);
        assertThat(cfg).as("a failed load never goes on to boot").contains("  exit 1\nfi\n");
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.step()).isEqualTo(Step.SCRIPT);
            assertThat(e.failed()).isFalse();
        });
    }

    @Test
    void aGrubWithoutItLoadsThemOverTftpByAddress() throws Exception {
        String cfg = render(configs(false));
        assertThat(cfg.lines()).anyMatch(l -> l.startsWith("if linux '(tftp,10.0.0.1)/artifacts/" + A + "/bzImage' "))
                .anyMatch(l -> l.startsWith("elif linux '(tftp,10.0.0.2)/artifacts/" + A + "/bzImage' "))
                .contains("if initrd '(tftp,10.0.0.1)/artifacts/" + B + "/initrd' '(tftp,10.0.0.1)/artifacts/" + C
                        + "/pivot.cpio.gz'; then true;");
        assertThat(cfg).doesNotContain("(http,").contains("pivot.url=" + BASE);
    }

    @Test
    void theBootstrapIsTheSameEitherWay() throws Exception {
        InetAddress client = InetAddress.getByName("10.0.0.100");
        assertThat(configs(true).generate("grub/grub.cfg", client)).get()
                .isEqualTo(configs(false).generate("grub/grub.cfg", client).orElseThrow());
    }
}
