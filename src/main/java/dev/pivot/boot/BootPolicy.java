package dev.pivot.boot;

/**
 * Decides the first loader for a client: the stateless rule every PXE server uses. iPXE clients get the
 * per-machine script; other firmware gets the distro's iPXE build for it over TFTP.
 */
public final class BootPolicy {

    private final String efiX64Loader;

    /** @param efiX64Loader "ipxe.efi" by default; "snponly.efi" for NICs whose UEFI driver ipxe.efi cannot use */
    public BootPolicy(String efiX64Loader) {
        this.efiX64Loader = efiX64Loader;
    }

    public BootPolicy() {
        this("ipxe.efi");
    }

    public FirstLoader firstLoader(BootClient client) {
        if (client.ipxe()) {
            return new FirstLoader.IpxeScript(client.mac());
        }
        return switch (client.firmware()) {
            case BIOS -> new FirstLoader.TftpFile("undionly.kpxe");
            case EFI_X64 -> new FirstLoader.TftpFile(efiX64Loader);
            case EFI_X64_HTTP -> new FirstLoader.HttpFile(efiX64Loader);
            case EFI_IA32, EFI_ARM64, EFI_ARM64_HTTP, UNKNOWN -> new FirstLoader.NoBoot(
                    "firmware " + client.firmware() + " has no iPXE build in this distro's ipxe package");
        };
    }
}
