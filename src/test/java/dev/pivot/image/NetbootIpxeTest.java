package dev.pivot.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NetbootIpxeTest {

    /** What nixpkgs' netboot.nix generates (kernel params of a typical config). */
    static final String NIXOS = """
            #!ipxe
            # Use the cmdline variable to allow the user to specify custom kernel params
            # when chainloading this script from other iPXE scripts like netboot.xyz
            kernel bzImage init=/nix/store/2b4l1qp0bjz6k6mxg0c2hwwxjdgd9m2q-nixos-system-nixos-25.05.20250101.abcdef/init initrd=initrd loglevel=4 console=ttyS0,115200 ${cmdline}
            initrd initrd
            boot
            """;

    @TempDir
    Path tmp;

    @Test
    void parsesTheNixosScript() throws Exception {
        Path file = tmp.resolve("netboot.ipxe");
        Files.writeString(file, NIXOS);

        NetbootIpxe ipxe = NetbootIpxe.parse(file);

        assertThat(ipxe.kernel()).isEqualTo("bzImage");
        assertThat(ipxe.initrds()).containsExactly("initrd");
        assertThat(ipxe.init())
                .isEqualTo("/nix/store/2b4l1qp0bjz6k6mxg0c2hwwxjdgd9m2q-nixos-system-nixos-25.05.20250101.abcdef/init");
        assertThat(ipxe.kernelArgs()).containsExactly("loglevel=4", "console=ttyS0,115200");
    }

    @Test
    void handMadeVariants() throws Exception {
        NetbootIpxe crlf = NetbootIpxe.parse(NIXOS.replace("\n", "\r\n"), "crlf.ipxe");
        assertThat(crlf.kernelArgs()).containsExactly("loglevel=4", "console=ttyS0,115200");

        NetbootIpxe options = NetbootIpxe.parse("""
                #!ipxe
                echo booting
                kernel --name kern Image   quiet init=/nix/store/x-nixos-system/init  root=fstab initrd=foo
                initrd --name initrd initrd
                set foo bar
                boot kern
                """, "arm.ipxe");
        assertThat(options.kernel()).isEqualTo("Image");
        assertThat(options.initrds()).containsExactly("initrd");
        assertThat(options.init()).isEqualTo("/nix/store/x-nixos-system/init");
        assertThat(options.kernelArgs()).containsExactly("quiet", "root=fstab");

        NetbootIpxe noParams = NetbootIpxe.parse("#!ipxe\nkernel bzImage init=/sbin/init\ninitrd a\ninitrd b\nboot\n",
                "min.ipxe");
        assertThat(noParams.kernelArgs()).isEmpty();
        assertThat(noParams.initrds()).containsExactly("a", "b");
    }

    @Test
    void errorsNameTheFileAndWhatIsWrong() {
        assertThatThrownBy(() -> NetbootIpxe.parse("kernel bzImage init=/x\n", "d/netboot.ipxe"))
                .isInstanceOf(ImageException.class)
                .hasMessage("d/netboot.ipxe: not an iPXE script (the first line is not #!ipxe)");
        assertThatThrownBy(() -> NetbootIpxe.parse(NIXOS.replaceAll("init=\\S+ ", ""), "d/netboot.ipxe"))
                .hasMessage("d/netboot.ipxe: the kernel line has no init= parameter");
        assertThatThrownBy(() -> NetbootIpxe.parse("#!ipxe\ninitrd initrd\nboot\n", "d/netboot.ipxe"))
                .hasMessage("d/netboot.ipxe: no kernel line");
        assertThatThrownBy(() -> NetbootIpxe.parse("#!ipxe\nkernel bzImage init=/x\nboot\n", "d/netboot.ipxe"))
                .hasMessage("d/netboot.ipxe: no initrd line");
        assertThatThrownBy(() -> NetbootIpxe.parse("#!ipxe\nkernel\ninitrd i\n", "d/netboot.ipxe"))
                .hasMessage("d/netboot.ipxe:2: kernel line without a file");
        assertThatThrownBy(() -> NetbootIpxe.parse("#!ipxe\nkernel k init=/x a=${foo}\ninitrd i\n", "s.ipxe"))
                .hasMessage("s.ipxe: kernel parameter a=${foo} uses an iPXE variable Pivot cannot fill in");
        assertThatThrownBy(() -> NetbootIpxe.parse("#!ipxe\nkernel \u001e\u001e init=/x\ninitrd i\n", "s.ipxe"))
                .hasMessage("s.ipxe:2: the kernel file name has a control or space character (U+001E)");
        assertThatThrownBy(() -> NetbootIpxe.parse("#!ipxe\nkernel k init=/x\ninitrd i\u0007\n", "s.ipxe"))
                .hasMessage("s.ipxe:3: the initrd file name has a control or space character (U+0007)");
        assertThatThrownBy(() -> NetbootIpxe.parse("#!ipxe\nkernel \u2003 init=/x\ninitrd i\n", "s.ipxe"))
                .hasMessage("s.ipxe:2: the kernel file name has a control or space character (U+2003)");
        assertThatThrownBy(() -> NetbootIpxe.parse(tmp.resolve("absent.ipxe")))
                .hasMessage(tmp.resolve("absent.ipxe") + ": no such file");
    }

    @Test
    void argumentListsAreImmutable() throws Exception {
        NetbootIpxe ipxe = NetbootIpxe.parse(NIXOS, "n");
        assertThatThrownBy(() -> ipxe.kernelArgs().add("x")).isInstanceOf(UnsupportedOperationException.class);
        assertThat(ipxe).isEqualTo(new NetbootIpxe("bzImage", List.of("initrd"), ipxe.init(), ipxe.kernelArgs()));
    }
}
