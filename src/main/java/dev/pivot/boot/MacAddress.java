package dev.pivot.boot;

import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/** A 48-bit Ethernet address, always shown as lower-case colon-separated hex ("52:54:00:12:34:56"). */
public record MacAddress(String value) {

    // Compiled once: every DHCP packet makes a MacAddress, and String.matches compiles its pattern each call.
    private static final Pattern CANONICAL = Pattern.compile("([0-9a-f]{2}:){5}[0-9a-f]{2}");
    private static final Pattern TWELVE_HEX = Pattern.compile("[0-9a-f]{12}");

    public MacAddress {
        if (!CANONICAL.matcher(value).matches()) {
            throw new IllegalArgumentException("not a MAC address: " + value);
        }
    }

    /** Accepts "52:54:00:12:34:56", "52-54-00-12-34-56" or "525400123456", in any case. */
    public static MacAddress parse(String text) {
        String hex = text.trim().replace(":", "").replace("-", "").toLowerCase(Locale.ROOT);
        if (!TWELVE_HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("not a MAC address: '" + text + "'");
        }
        return of(HexFormat.of().parseHex(hex));
    }

    public static MacAddress of(byte[] sixBytes) {
        if (sixBytes.length < 6) {
            throw new IllegalArgumentException("a MAC address needs 6 bytes, got " + sixBytes.length);
        }
        return new MacAddress(HexFormat.ofDelimiter(":").formatHex(sixBytes, 0, 6));
    }

    public byte[] bytes() {
        return HexFormat.ofDelimiter(":").parseHex(value);
    }

    /** "52-54-00-12-34-56", the form PXELINUX uses in pxelinux.cfg/01-… file names. */
    public String dashed() {
        return value.replace(':', '-');
    }

    @Override
    public String toString() {
        return value;
    }
}
