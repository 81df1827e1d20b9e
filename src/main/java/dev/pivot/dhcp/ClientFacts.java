package dev.pivot.dhcp;

import dev.pivot.boot.BootClient;
import dev.pivot.boot.Firmware;
import dev.pivot.boot.MacAddress;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a DHCP request says about the machine behind it.
 *
 * @param vendorClass option 60, "" when absent
 * @param pxe         the vendor class announces a PXE ROM ("PXEClient…") or UEFI HTTP Boot ("HTTPClient…")
 * @param httpBoot    the vendor class is "HTTPClient…" (UEFI HTTP Boot wants a URL and option 60 HTTPClient back)
 * @param ipxe        iPXE is already running: option 175 present or user class "iPXE"
 */
public record ClientFacts(MacAddress mac, Firmware firmware, String vendorClass, boolean pxe, boolean httpBoot,
                          boolean ipxe) {

    private static final Pattern ARCH = Pattern.compile("^(?:PXEClient|HTTPClient):Arch:(\\d{5})");

    /** Empty when the packet does not carry an Ethernet address (htype 1, hlen 6): Pivot boots only those. */
    public static Optional<ClientFacts> of(DhcpPacket packet) {
        Optional<MacAddress> mac = packet.ethernetMac();
        if (mac.isEmpty()) {
            return Optional.empty();
        }
        String vendorClass = packet.vendorClass().orElse("");
        boolean httpBoot = vendorClass.startsWith("HTTPClient");
        boolean pxe = vendorClass.startsWith("PXEClient") || httpBoot;
        boolean ipxe = packet.has(DhcpOption.IPXE_ENCAPSULATED) || packet.userClasses().contains("iPXE");
        return Optional.of(new ClientFacts(mac.get(), firmware(packet.clientArchitectures(), vendorClass, httpBoot),
                vendorClass, pxe, httpBoot, ipxe));
    }

    /** Option 93 wins; else the "Arch:NNNNN" of the vendor class; a PXE ROM naming neither is a BIOS one. */
    static Firmware firmware(List<Integer> archs, String vendorClass, boolean httpBoot) {
        Firmware firmware;
        Matcher m = ARCH.matcher(vendorClass);
        if (!archs.isEmpty()) {
            firmware = Firmware.fromArch(archs.getFirst());
        } else if (m.find()) {
            firmware = Firmware.fromArch(Integer.parseInt(m.group(1)));
        } else {
            firmware = vendorClass.startsWith("PXEClient") ? Firmware.BIOS : Firmware.UNKNOWN;
        }
        // Some HTTP Boot clients send their plain EFI arch with an HTTPClient vendor class.
        if (httpBoot && firmware == Firmware.EFI_X64) {
            return Firmware.EFI_X64_HTTP;
        }
        if (httpBoot && firmware == Firmware.EFI_ARM64) {
            return Firmware.EFI_ARM64_HTTP;
        }
        return firmware;
    }

    public BootClient bootClient() {
        return new BootClient(mac, firmware, ipxe);
    }

    /** Firmware that reads boot files from DHCP but chokes on PXE option 43 (pixiecore's observation). */
    public boolean uefi() {
        return firmware != Firmware.BIOS && firmware != Firmware.UNKNOWN;
    }

    /** Worth a boot answer: a PXE ROM or an iPXE that asks. Plain DHCP clients only get an address. */
    public boolean wantsBoot() {
        return pxe || ipxe;
    }
}
