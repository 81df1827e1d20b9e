package dev.pivot.server;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * What UEFI x86-64 machines load first, decided once at start from {@code --efi-loader} and what is installed.
 *
 * <p>DHCP does not say whether a machine has Secure Boot on, and a Secure Boot machine refuses the distro's iPXE in
 * its firmware, so by default every UEFI PXE client gets shim, which starts Debian's signed GRUB (as MAAS does):
 * it boots with Secure Boot on or off, at the price of GRUB's slower downloads on ordinary UEFI machines. UEFI HTTP
 * Boot clients keep the distro's iPXE by URL.
 *
 * @param pxe      the TFTP file for UEFI x86-64 PXE clients
 * @param httpBoot the iPXE build UEFI HTTP Boot clients fetch by URL
 * @param tftpDirs package directories TFTP serves besides the iPXE one (the linked shim and GRUB)
 */
record UefiLoaders(String pxe, String httpBoot, List<Path> tftpDirs) {

    static final String IPXE = "ipxe.efi";
    static final String NO_SECURE_BOOT = "machines with UEFI Secure Boot on will not boot (their firmware refuses "
            + "iPXE, which is not signed by a key it trusts)";

    static UefiLoaders choose(ServerConfig config, PrintStream out) throws IOException {
        if (!config.efiLoader().equals(ServerConfig.GRUB_LOADER)) {
            out.println("pivot: UEFI PXE clients get " + config.efiLoader() + " (--efi-loader): " + NO_SECURE_BOOT
                    + "; the default --efi-loader grub boots them");
            return new UefiLoaders(config.efiLoader(), config.efiLoader(), List.of());
        }
        return switch (SecureBootLoaders.find(config.state().resolve("loaders"))) {
            case SecureBootLoaders.Found.Chain chain -> {
                out.println("pivot: UEFI PXE clients get shim -> GRUB (Secure Boot on or off); UEFI HTTP Boot clients"
                        + " get " + IPXE);
                yield new UefiLoaders(SecureBootLoaders.SHIM, IPXE, List.of(chain.dir()));
            }
            case SecureBootLoaders.Found.Missing missing -> {
                missing.missing().forEach(line -> out.println("pivot: " + line));
                out.println("pivot: WARNING: UEFI PXE clients get " + IPXE + " instead of shim -> GRUB: "
                        + NO_SECURE_BOOT);
                yield new UefiLoaders(IPXE, IPXE, List.of());
            }
        };
    }
}
