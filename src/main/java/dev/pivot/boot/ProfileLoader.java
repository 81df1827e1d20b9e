package dev.pivot.boot;

import java.util.Arrays;
import java.util.Optional;

/**
 * A profile's choice of first loader for its UEFI x86-64 PXE machines ({@code loader:} in profiles.yaml), over
 * `pivot serve`'s {@code --efi-loader}: iPXE for what only iPXE does (the generations menu), or shim → GRUB so
 * that machines with Secure Boot on boot.
 */
public enum ProfileLoader {
    IPXE("ipxe"), GRUB("grub");

    private final String wire;

    ProfileLoader(String wire) {
        this.wire = wire;
    }

    /** As written in profiles.yaml. */
    public String wire() {
        return wire;
    }

    public static Optional<ProfileLoader> fromWire(String text) {
        return Arrays.stream(values()).filter(l -> l.wire.equals(text)).findFirst();
    }
}
