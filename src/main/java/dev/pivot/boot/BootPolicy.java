package dev.pivot.boot;

import java.util.Optional;
import java.util.function.Function;

/**
 * Decides the first loader for a client: the stateless rule every PXE server uses. iPXE clients get the
 * per-machine script; BIOS gets the distro's iPXE over TFTP; UEFI x86-64 PXE gets {@link Loaders#efiX64} over TFTP
 * (shim, which starts GRUB, in `pivot serve`'s default, so that a Secure Boot machine boots too: DHCP cannot say
 * whether Secure Boot is on); UEFI HTTP Boot gets {@link Loaders#efiX64Http} by URL.
 *
 * <p>A machine's profile may choose for its UEFI x86-64 PXE firmware ({@code loader:} in profiles.yaml): iPXE gets
 * it the iPXE build, GRUB gets it shim → GRUB when the chain is there (else the iPXE build: `pivot serve` said so at
 * start). BIOS has no GRUB here, and a client that is iPXE already keeps its script.
 *
 * <p>UEFI x86-64 HTTP Boot clients get shim by URL when {@link Loaders#httpGrub} is given (shim fetches GRUB from the
 * same URL directory; a GRUB with the http module then takes everything else over HTTP): a Secure Boot machine set
 * to HTTP Boot boots too. A profile choosing iPXE gets them the iPXE build by URL.
 *
 * <p>ARM64 UEFI machines (PXE and HTTP Boot) get GRUB for arm64 ({@link Loaders#arm64}), when `pivot serve` could
 * build it: the distro's iPXE has no arm64 build.
 */
public final class BootPolicy {

    /**
     * The loaders `pivot serve` chose at start.
     *
     * @param efiX64     the TFTP file for UEFI x86-64 PXE clients ("shimx64.efi", "ipxe.efi", …)
     * @param efiX64Http the distro iPXE build: UEFI HTTP Boot clients fetch it by URL, profiles choosing iPXE get it
     * @param grub       the TFTP file that starts GRUB (shim); empty when the chain is not available
     * @param httpGrub   the file that starts GRUB (shim) which UEFI x86-64 HTTP Boot clients fetch by URL, for every
     *                   such client whose profile does not choose iPXE; empty: they get the iPXE build
     * @param arm64      the GRUB file ARM64 machines load (TFTP for PXE, by URL for HTTP Boot); empty: none
     */
    public record Loaders(String efiX64, String efiX64Http, Optional<String> grub, Optional<String> httpGrub,
                          Optional<String> arm64) {

        /**
         * The same iPXE build for every UEFI x86-64 client, and no GRUB.
         *
         * @param build "ipxe.efi"; "snponly.efi" for NICs whose UEFI driver ipxe.efi cannot use
         */
        public static Loaders ipxe(String build) {
            return new Loaders(build, build, Optional.empty(), Optional.empty(), Optional.empty());
        }
    }

    private final Loaders loaders;
    private final Function<MacAddress, Optional<ProfileLoader>> profileLoader;

    /**
     * @param profileLoader the loader a machine's profile chooses; empty: the profile leaves it to the others
     */
    public BootPolicy(Loaders loaders, Function<MacAddress, Optional<ProfileLoader>> profileLoader) {
        this.loaders = loaders;
        this.profileLoader = profileLoader;
    }

    /** ipxe.efi for every UEFI x86-64 client, no GRUB, and no profile choosing. */
    public static BootPolicy ipxe() {
        return new BootPolicy(Loaders.ipxe("ipxe.efi"), mac -> Optional.empty());
    }

    /**
     * The distro's iPXE build for this firmware over TFTP, for the optional upgrade of a NIC's iPXE ROM: never
     * shim, which is what a UEFI PXE client may be given first but is no iPXE.
     */
    public Optional<FirstLoader.TftpFile> ipxeBuild(Firmware firmware) {
        return switch (firmware) {
            case BIOS -> Optional.of(new FirstLoader.TftpFile("undionly.kpxe"));
            case EFI_X64 -> Optional.of(new FirstLoader.TftpFile(loaders.efiX64Http()));
            default -> Optional.empty();
        };
    }

    public FirstLoader firstLoader(BootClient client) {
        if (client.ipxe()) {
            return new FirstLoader.IpxeScript(client.mac());
        }
        return switch (client.firmware()) {
            case BIOS -> new FirstLoader.TftpFile("undionly.kpxe");
            case EFI_X64 -> new FirstLoader.TftpFile(efiX64For(client.mac()));
            case EFI_X64_HTTP -> new FirstLoader.HttpFile(efiX64HttpFor(client.mac()));
            case EFI_ARM64 -> loaders.arm64().<FirstLoader>map(FirstLoader.TftpFile::new).orElseGet(this::noArm64);
            case EFI_ARM64_HTTP ->
                    loaders.arm64().<FirstLoader>map(FirstLoader.HttpFile::new).orElseGet(this::noArm64);
            case EFI_IA32, UNKNOWN -> new FirstLoader.NoBoot(
                    "firmware " + client.firmware() + " has no iPXE build in this distro's ipxe package");
        };
    }

    private FirstLoader noArm64() {
        return new FirstLoader.NoBoot("firmware " + Firmware.EFI_ARM64.wire() + " needs GRUB for arm64, which pivot"
                + " serve could not build (it said why at start)");
    }

    /** shim (→ GRUB) when there is one to give by URL, unless the profile chooses iPXE; else the iPXE build. */
    private String efiX64HttpFor(MacAddress mac) {
        if (loaders.httpGrub().isEmpty()) {
            return loaders.efiX64Http();
        }
        return profileLoader.apply(mac).filter(l -> l == ProfileLoader.IPXE).map(l -> loaders.efiX64Http())
                .orElse(loaders.httpGrub().get());
    }

    private String efiX64For(MacAddress mac) {
        return profileLoader.apply(mac).map(l -> switch (l) {
            case IPXE -> loaders.efiX64Http();
            case GRUB -> loaders.grub().orElse(loaders.efiX64Http());
        }).orElse(loaders.efiX64());
    }
}
