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
 * it boots with Secure Boot on or off. UEFI HTTP Boot clients get the same shim by URL when its GRUB has the http
 * module (Debian 13's 2.12): shim fetches GRUB from the URL directory it came from, and GRUB its config, kernel and
 * initrds over HTTP from the server in that URL, so no TFTP is needed; with Debian 12's GRUB 2.06 (TFTP only) they
 * get the distro's iPXE by URL. Under ProxyDHCP only GRUB 2.12 finds its server for PXE, from the ProxyDHCP offer
 * the firmware kept; with Debian 12's GRUB 2.06 alone, UEFI PXE clients under ProxyDHCP get iPXE.
 *
 * @param pxe      the TFTP file for UEFI x86-64 PXE clients
 * @param httpBoot the iPXE build (UEFI HTTP Boot clients fetch it by URL when {@code httpGrub} is empty)
 * @param tftpDirs package directories TFTP serves besides the iPXE one (the linked shim and GRUB)
 * @param grub     the TFTP file that starts GRUB (shim) for profiles choosing {@code loader: grub}; empty when the
 *                 chain is missing, or under --dhcp proxy when its GRUB cannot read the ProxyDHCP offer
 * @param httpGrub shim, which UEFI HTTP Boot clients fetch by URL; empty when the chain is missing or its GRUB has
 *                 no http module, or --efi-loader names an iPXE build
 * @param grubOverHttp whether that GRUB loads kernel and initrds over HTTP (2.12 with its http module), else TFTP
 */
record UefiLoaders(String pxe, String httpBoot, List<Path> tftpDirs, Optional<String> grub, Optional<String> httpGrub,
                   boolean grubOverHttp) {

    UefiLoaders(String pxe, String httpBoot, List<Path> tftpDirs, boolean grubOverHttp) {
        this(pxe, httpBoot, tftpDirs, tftpDirs.isEmpty() ? Optional.empty() : Optional.of(SecureBootLoaders.SHIM),
                Optional.empty(), grubOverHttp);
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
        return choose(config, grubProfiles, out, SecureBootLoaders.ROOTS);
    }

    /** @param roots where the Debian packages are looked for ({@link SecureBootLoaders#ROOTS}) */
    static UefiLoaders choose(ServerConfig config, List<String> grubProfiles, PrintStream out, List<Path> roots)
            throws IOException {
        UefiLoaders chosen = chooseForAll(config, out, !grubProfiles.isEmpty(), roots);
        if (!grubProfiles.isEmpty() && chosen.grub().isEmpty()) {
            out.println("pivot: WARNING: profile" + (grubProfiles.size() == 1 ? " " : "s ")
                    + String.join(", ", grubProfiles) + " choose loader grub, but "
                    + (config.dhcp() == ServerConfig.DhcpMode.PROXY ? "no GRUB that finds its server through ProxyDHCP"
                    + " (above)" : "shim -> GRUB is missing (above)") + ": their UEFI PXE machines get "
                    + chosen.httpBoot());
        }
        return chosen;
    }

    private static UefiLoaders chooseForAll(ServerConfig config, PrintStream out, boolean grubWanted,
                                            List<Path> roots) throws IOException {
        // Looked for whatever --efi-loader says: a profile may choose GRUB now, or after a reload of profiles.yaml.
        SecureBootLoaders.Found found = SecureBootLoaders.find(roots, config.state().resolve("loaders"));
        if (!config.efiLoader().equals(ServerConfig.GRUB_LOADER)) {
            out.println("pivot: UEFI PXE clients get " + config.efiLoader() + " (--efi-loader): " + NO_SECURE_BOOT
                    + "; the default --efi-loader grub boots them");
            switch (found) {
                case SecureBootLoaders.Found.Chain chain when servesThisDhcp(config, chain) -> {
                    return new UefiLoaders(config.efiLoader(), config.efiLoader(), List.of(chain.dir()),
                            chain.loadsOverHttp());
                }
                case SecureBootLoaders.Found.Chain chain -> {
                    if (grubWanted) {
                        out.println("pivot: " + cannotReadProxyDhcp(chain));
                    }
                }
                case SecureBootLoaders.Found.Missing missing -> {
                    if (grubWanted) {
                        missing.missing().forEach(line -> out.println("pivot: " + line));
                    }
                }
            }
            return new UefiLoaders(config.efiLoader(), config.efiLoader(), List.of(), false);
        }
        return switch (found) {
            case SecureBootLoaders.Found.Chain chain when servesThisDhcp(config, chain) -> {
                out.println("pivot: UEFI PXE clients get shim -> GRUB " + chain.grubVersion().map(String::valueOf)
                        .orElse("(version unknown)") + " (Secure Boot on or off; kernel and initrds over "
                        + (chain.loadsOverHttp() ? "HTTP" : "TFTP, this GRUB has no http module") + "); UEFI HTTP Boot"
                        + " clients get " + (chain.loadsOverHttp() ? "the same by URL" : IPXE + " by URL"));
                yield new UefiLoaders(SecureBootLoaders.SHIM, IPXE, List.of(chain.dir()),
                        Optional.of(SecureBootLoaders.SHIM), httpGrub(chain), chain.loadsOverHttp());
            }
            case SecureBootLoaders.Found.Chain chain -> {
                // iPXE reads the ProxyDHCP offer; GRUB 2.06 would stop at its prompt.
                out.println("pivot: " + cannotReadProxyDhcp(chain));
                out.println("pivot: WARNING: UEFI PXE clients get " + IPXE + " under --dhcp proxy: " + NO_SECURE_BOOT
                        + "; --dhcp full boots them through shim -> GRUB");
                yield new UefiLoaders(IPXE, IPXE, List.of(), false);
            }
            case SecureBootLoaders.Found.Missing missing -> {
                missing.missing().forEach(line -> out.println("pivot: " + line));
                out.println("pivot: WARNING: UEFI PXE clients get " + IPXE + " instead of shim -> GRUB: "
                        + NO_SECURE_BOOT);
                yield new UefiLoaders(IPXE, IPXE, List.of(), false);
            }
        };
    }

    /**
     * shim by URL for UEFI HTTP Boot when its GRUB takes everything over HTTP; under HTTP Boot that GRUB finds its
     * server in the URL the firmware booted from, whatever answered DHCP.
     */
    private static Optional<String> httpGrub(SecureBootLoaders.Found.Chain chain) {
        return chain.loadsOverHttp() ? Optional.of(SecureBootLoaders.SHIM) : Optional.empty();
    }

    /** Under ProxyDHCP the router's DHCP ack does not name Pivot: only a GRUB that reads the ProxyDHCP offer finds it. */
    private static boolean servesThisDhcp(ServerConfig config, SecureBootLoaders.Found.Chain chain) {
        return config.dhcp() != ServerConfig.DhcpMode.PROXY || chain.readsProxyDhcp();
    }

    private static String cannotReadProxyDhcp(SecureBootLoaders.Found.Chain chain) {
        return "GRUB " + chain.grubVersion().map(String::valueOf).orElse("(version unknown)") + " (" + chain.grub()
                + ") takes its server from the router's DHCP ack only, so it cannot find Pivot under --dhcp proxy; GRUB "
                + SecureBootLoaders.READS_PROXY_DHCP + " can: run scripts/fetch-boot-loaders.sh (it unpacks"
                + " grub-efi-amd64-signed from Debian 13 trixie into " + SecureBootLoaders.UNPACKED_TRIXIE + ")";
    }
}
