package dev.pivot.boot;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The client's firmware, from DHCP option 93 (RFC 4578 / IANA "Processor Architecture Types") and the vendor
 * class. It decides which first loader a machine can run, and it is the one vocabulary for firmware everywhere:
 * events, the machine record, profile groups, the API, the CLI and the page all use {@link #wire()}.
 */
public enum Firmware {
    BIOS("bios"),
    EFI_IA32("uefi-ia32"),
    EFI_X64("uefi"),
    EFI_ARM64("uefi-arm64"),
    /** UEFI HTTP Boot (arch 16, vendor class HTTPClient): takes an HTTP URL, not a TFTP file name. */
    EFI_X64_HTTP("uefi-http"),
    EFI_ARM64_HTTP("uefi-arm64-http"),
    UNKNOWN("unknown");

    private final String wire;

    Firmware(String wire) {
        this.wire = wire;
    }

    /** The name in events, the database, profiles.yaml, the API and the CLI. */
    public String wire() {
        return wire;
    }

    /** Parses a {@link #wire()} name; empty for anything else. */
    public static Optional<Firmware> fromWire(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(f -> f.wire.equals(n)).findFirst();
    }

    /** The names {@link #fromWire} accepts, for error messages ("bios, uefi, …"). */
    public static String wireNames() {
        return Arrays.stream(values()).filter(f -> f != UNKNOWN).map(Firmware::wire)
                .collect(Collectors.joining(", "));
    }

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
