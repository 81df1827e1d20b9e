package dev.pivot.server;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What UEFI x86-64 machines load first, decided once at start from {@code --efi-loader} and what is installed.
 *
 * <p>DHCP does not say whether a machine has Secure Boot on, and a Secure Boot machine refuses the distro's iPXE in
 * its firmware, so by default every UEFI PXE client gets shim, which starts Debian's signed GRUB (as MAAS does):
 * it boots with Secure Boot on or off. UEFI HTTP Boot clients keep the distro's iPXE by URL (the signed GRUB has no
 * http module), and so do UEFI PXE clients under ProxyDHCP, where Debian's GRUB 2.06 cannot find its server.
 *
 * @param pxe      the TFTP file for UEFI x86-64 PXE clients
 * @param httpBoot the iPXE build UEFI HTTP Boot clients fetch by URL
 * @param tftpDirs package directories TFTP serves besides the iPXE one (the linked shim and GRUB)
 * @param grub     the TFTP file that starts GRUB (shim) for profiles choosing {@code loader: grub}; empty when the
 *                 chain is missing or under --dhcp proxy
 */
record UefiLoaders(String pxe, String httpBoot, List<Path> tftpDirs, Optional<String> grub) {

    UefiLoaders(String pxe, String httpBoot, List<Path> tftpDirs) {
        this(pxe, httpBoot, tftpDirs, tftpDirs.isEmpty() ? Optional.empty() : Optional.of(SecureBootLoaders.SHIM));
    }

    static final String IPXE = "ipxe.efi";
    static final String NO_SECURE_BOOT = "machines with UEFI Secure Boot on will not boot (their firmware refuses "
            + "iPXE, which is not signed by a key it trusts)";

    static UefiLoaders choose(ServerConfig config, PrintStream out) throws IOException {
        return choose(config, List.of(), out);
    }

    /**
     * @param grubProfiles profiles that choose {@code loader: grub}: the chain is looked for even when --efi-loader
     *                     names an iPXE build, and said when they cannot have it
     */
    static UefiLoaders choose(ServerConfig config, List<String> grubProfiles, PrintStream out) throws IOException {
        UefiLoaders chosen = chooseForAll(config, out, !grubProfiles.isEmpty());
        if (!grubProfiles.isEmpty() && chosen.grub().isEmpty()) {
            out.println("pivot: WARNING: profile" + (grubProfiles.size() == 1 ? " " : "s ")
                    + String.join(", ", grubProfiles) + " choose loader grub, but "
                    + (config.dhcp() == ServerConfig.DhcpMode.PROXY ? "Debian's GRUB cannot find its server through"
                    + " ProxyDHCP" : "shim -> GRUB is missing (above)") + ": their UEFI PXE machines get "
                    + chosen.httpBoot());
        }
        return chosen;
    }

    private static UefiLoaders chooseForAll(ServerConfig config, PrintStream out, boolean grubWanted)
            throws IOException {
        if (!config.efiLoader().equals(ServerConfig.GRUB_LOADER)) {
            out.println("pivot: UEFI PXE clients get " + config.efiLoader() + " (--efi-loader): " + NO_SECURE_BOOT
                    + "; the default --efi-loader grub boots them");
            // Looked for whether or not a profile chooses GRUB now: one may after a reload of profiles.yaml.
            if (config.dhcp() != ServerConfig.DhcpMode.PROXY) {
                switch (SecureBootLoaders.find(config.state().resolve("loaders"))) {
                    case SecureBootLoaders.Found.Chain chain -> {
                        return new UefiLoaders(config.efiLoader(), config.efiLoader(), List.of(chain.dir()));
                    }
                    case SecureBootLoaders.Found.Missing missing -> {
                        if (grubWanted) {
                            missing.missing().forEach(line -> out.println("pivot: " + line));
                        }
                    }
                }
            }
            return new UefiLoaders(config.efiLoader(), config.efiLoader(), List.of());
        }
        if (config.dhcp() == ServerConfig.DhcpMode.PROXY) {
            // Debian's GRUB 2.06 takes its server from the DHCP ack only, which is the router's under ProxyDHCP: it
            // would stop at its prompt. iPXE reads the ProxyDHCP offer.
            out.println("pivot: UEFI PXE clients get " + IPXE + " under --dhcp proxy (Debian's GRUB cannot find its"
                    + " server through ProxyDHCP): " + NO_SECURE_BOOT + "; --dhcp full boots them through shim -> GRUB");
            return new UefiLoaders(IPXE, IPXE, List.of());
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
