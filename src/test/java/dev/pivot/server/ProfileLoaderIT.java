package dev.pivot.server;

import dev.pivot.demo.NetNamespace;
import dev.pivot.dhcp.Lab;
import dev.pivot.testsupport.Require;
import dev.pivot.testsupport.TestImage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `pivot serve --dhcp full` as shipped (the ./pivot launcher): a UEFI x86-64 PXE client (udhcpc announcing arch 7)
 * is handed the first loader its profile's {@code loader:} chooses over --efi-loader, and the --efi-loader one
 * once profiles.yaml (read again without a restart) moves it to a profile that chooses nothing.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ProfileLoaderIT {

    private static final String MAC = "52:54:00:7b:00:01";

    @TempDir
    Path tmp;

    private Lab lab;

    @AfterEach
    void cleanUp() throws Exception {
        if (lab != null) {
            lab.close(); // ends the server by PID with its namespace
        }
    }

    private static String profiles(Path image, String labProfile) {
        return profiles(image, labProfile, "ipxe");
    }

    private static String profiles(Path image, String labProfile, String loader) {
        return """
                profiles:
                  demo:
                    image: %s
                  pinned:
                    image: %s
                    loader: %s
                groups:
                  lab:
                    profile: %s
                    machines: ["%s"]
                default: demo
                """.formatted(image, image, loader, labProfile, MAC);
    }

    /** Starts `pivot serve` with {@code extra} options; returns its output lines once it waits for machines. */
    private List<String> serve(Lab.ClientServerLan lan, Path image, Path file, String... extra) throws Exception {
        String pivot = Path.of(System.getProperty("pivot.root", ".")).resolve("pivot").toAbsolutePath().toString();
        List<String> output = new CopyOnWriteArrayList<>();
        List<String> command = new java.util.ArrayList<>(List.of(pivot, "serve", image.toString(), "--skip-check",
                "--interface", lan.serverIf(), "--dhcp", "full", "--range", "10.77.0.100-10.77.0.150",
                "--state", tmp.resolve("state").toString(), "--profiles", file.toString()));
        command.addAll(List.of(extra));
        Process server = lab.start(lan.server(), command, output);
        Lab.awaitLine(output, 180, l -> l.startsWith("pivot: waiting for machines") || !server.isAlive(),
                "pivot serve ready");
        assertThat(server.isAlive()).as("pivot serve runs: %s", output).isTrue();
        return output;
    }

    @Test
    void aProfileChoosingGrubGetsShimUnderEfiLoaderIpxeAndTftpServesIt() throws Exception {
        Require.root("network namespaces");
        Require.command("busybox");
        Require.command("curl");
        lab = new Lab();
        Lab.ClientServerLan lan = lab.clientServerLan("ldrs", "ldrc", MAC);
        Path image = TestImage.nixos(tmp, "loader");
        Path file = tmp.resolve("profiles.yaml");
        Files.writeString(file, profiles(image, "pinned", "grub"));
        List<String> output = serve(lan, image, file, "--efi-loader", "ipxe.efi");
        assertThat(output).anyMatch(l -> l.startsWith("pivot: profile pinned: ") && l.endsWith(", UEFI PXE loader grub"));
        assertThat(output).as("no warning: the chain is there (scripts/fetch-boot-loaders.sh): %s", output)
                .noneMatch(l -> l.contains("choose loader grub"));

        assertThat(uefiPxeBootFile(lab, lan.client(), lan)).isEqualTo(SecureBootLoaders.SHIM);
        Lab.Result shim = lab.exec(lan.client(), 60, "curl", "--max-time", "30", "-s", "-o", "/dev/null", "-w",
                "%{size_download}", "tftp://" + Lab.SERVER_IP + "/" + SecureBootLoaders.SHIM);
        assertThat(Long.parseLong(shim.output().strip())).as("TFTP %s bytes", SecureBootLoaders.SHIM).isPositive();
        // The GRUB served (Debian 13's 2.12, http module built in) is told to load kernel and initrds over HTTP
        // from this server's address, TFTP only after that.
        Lab.Result cfg = lab.exec(lan.client(), 60, "curl", "--max-time", "30", "-sS",
                "tftp://" + Lab.SERVER_IP + "/grub/machine/" + MAC + ".cfg");
        assertThat(cfg.output()).as("grub.cfg over TFTP")
                .contains("if linux '(http," + Lab.SERVER_IP).contains("if initrd '(http," + Lab.SERVER_IP)
                .contains("elif linux '(tftp," + Lab.SERVER_IP + ")");

        Files.writeString(file, profiles(image, "demo", "grub"));
        Lab.awaitLine(output, 30, l -> l.startsWith("pivot: profiles reloaded from"), "profiles reloaded");
        assertThat(uefiPxeBootFile(lab, lan.client(), lan)).isEqualTo("ipxe.efi");
    }

    @Test
    void aProfileChoosingIpxeOverridesTheDefaultShimForItsUefiPxeMachines() throws Exception {
        Require.root("network namespaces");
        Require.command("busybox");
        lab = new Lab();
        Lab.ClientServerLan lan = lab.clientServerLan("ldrs", "ldrc", MAC);
        NetNamespace clientNs = lan.client();
        Path image = TestImage.nixos(tmp, "loader");
        Path file = tmp.resolve("profiles.yaml");
        Files.writeString(file, profiles(image, "pinned"));
        List<String> output = serve(lan, image, file);
        assertThat(output).as("the Secure Boot chain is there (scripts/fetch-boot-loaders.sh): %s", output)
                .anyMatch(l -> l.startsWith("pivot: UEFI PXE clients get shim -> GRUB"));
        assertThat(output).anyMatch(l -> l.startsWith("pivot: profile pinned: ") && l.endsWith(", UEFI PXE loader ipxe"));

        assertThat(uefiPxeBootFile(lab, clientNs, lan)).isEqualTo("ipxe.efi");

        Files.writeString(file, profiles(image, "demo"));
        Lab.awaitLine(output, 30, l -> l.startsWith("pivot: profiles reloaded from"), "profiles reloaded");
        assertThat(uefiPxeBootFile(lab, clientNs, lan)).isEqualTo(SecureBootLoaders.SHIM);
    }

    /** The boot file a UEFI x86-64 PXE client (option 93 = 7, vendor class PXEClient) is given in the DHCP ack. */
    private static String uefiPxeBootFile(Lab lab, NetNamespace clientNs, Lab.ClientServerLan lan) throws Exception {
        Lab.Result r = lab.exec(clientNs, 60, "busybox", "udhcpc", "-i", lan.clientIf(), "-f", "-q", "-n",
                "-t", "5", "-T", "1", "-s", lan.udhcpcScript().toString(),
                "-V", "PXEClient:Arch:00007:UNDI:003016", "-x", "0x5d:0007");
        String line = r.output().lines().filter(l -> l.startsWith("LEASE bound ")).findFirst()
                .orElseThrow(() -> new AssertionError("udhcpc printed no lease: " + r.output()));
        return line.replaceFirst(".* boot_file=", "").strip();
    }
}
