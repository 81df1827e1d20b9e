package dev.pivot.boot;

/**
 * The client's firmware, from DHCP option 93 (RFC 4578 / IANA "Processor Architecture Types") and the vendor
 * class. It decides which first loader a machine can run.
 */
public enum Firmware {
    BIOS,
    EFI_IA32,
    EFI_X64,
    EFI_ARM64,
    /** UEFI HTTP Boot (arch 16, vendor class HTTPClient): takes an HTTP URL, not a TFTP file name. */
    EFI_X64_HTTP,
    EFI_ARM64_HTTP,
    UNKNOWN;

    /** Maps an RFC 4578 client system architecture number. */
    public static Firmware fromArch(int arch) {
        return switch (arch) {
            case 0 -> BIOS;
            case 6 -> EFI_IA32;
            case 7, 9 -> EFI_X64;
            case 11 -> EFI_ARM64;
            case 16 -> EFI_X64_HTTP;
            case 19 -> EFI_ARM64_HTTP;
            default -> UNKNOWN;
        };
    }
}
