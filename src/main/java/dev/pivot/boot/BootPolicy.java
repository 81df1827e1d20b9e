package dev.pivot.boot;

/**
 * Decides the first loader for a client: the stateless rule every PXE server uses. iPXE clients get the
 * per-machine script; BIOS gets the distro's iPXE over TFTP; UEFI x86-64 PXE gets {@code efiX64Loader} over TFTP
 * (shim, which starts GRUB, in `pivot serve`'s default, so that a Secure Boot machine boots too: DHCP cannot say
 * whether Secure Boot is on); UEFI HTTP Boot gets {@code efiX64HttpLoader} by URL.
 */
public final class BootPolicy {

    private final String efiX64Loader;
    private final String efiX64HttpLoader;

    /** @param efiX64Loader "ipxe.efi"; "snponly.efi" for NICs whose UEFI driver ipxe.efi cannot use */
    public BootPolicy(String efiX64Loader) {
        this(efiX64Loader, efiX64Loader);
    }

    /**
     * @param efiX64Loader     the TFTP file for UEFI x86-64 PXE clients ("shimx64.efi", "ipxe.efi", …)
     * @param efiX64HttpLoader the distro iPXE build UEFI HTTP Boot clients fetch by URL
     */
    public BootPolicy(String efiX64Loader, String efiX64HttpLoader) {
        this.efiX64Loader = efiX64Loader;
        this.efiX64HttpLoader = efiX64HttpLoader;
    }

    public BootPolicy() {
        this("ipxe.efi");
    }

    /**
     * The distro's iPXE build for this firmware over TFTP, for the optional upgrade of a NIC's iPXE ROM: never
     * shim, which is what a UEFI PXE client may be given first but is no iPXE.
     */
    public java.util.Optional<FirstLoader.TftpFile> ipxeBuild(Firmware firmware) {
        return switch (firmware) {
            case BIOS -> java.util.Optional.of(new FirstLoader.TftpFile("undionly.kpxe"));
            case EFI_X64 -> java.util.Optional.of(new FirstLoader.TftpFile(efiX64HttpLoader));
            default -> java.util.Optional.empty();
        };
    }

    public FirstLoader firstLoader(BootClient client) {
        if (client.ipxe()) {
            return new FirstLoader.IpxeScript(client.mac());
        }
        return switch (client.firmware()) {
            case BIOS -> new FirstLoader.TftpFile("undionly.kpxe");
            case EFI_X64 -> new FirstLoader.TftpFile(efiX64Loader);
            case EFI_X64_HTTP -> new FirstLoader.HttpFile(efiX64HttpLoader);
            case EFI_IA32, EFI_ARM64, EFI_ARM64_HTTP, UNKNOWN -> new FirstLoader.NoBoot(
                    "firmware " + client.firmware() + " has no iPXE build in this distro's ipxe package");
        };
    }
}
