package dev.pivot.boot;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One thing that happened in a machine's boot, as a protocol server or stage 1 saw it. What a consumer needs to
 * decide on is a field (firmware, address, file, DHCP answer, bytes); {@code detail} is only for people.
 *
 * @param at       when it happened
 * @param mac      which machine
 * @param step     which step of the boot
 * @param failed   true when this step failed; {@code detail} then is the reason
 * @param detail   a short human text: the file name, the address offered, the failure reason
 * @param bytes    bytes moved in this step (0 when none)
 * @param firmware the machine's firmware, when this step revealed it (DHCP option 93)
 * @param address  the IPv4 address involved: offered, leased, or the client's source address
 * @param file     the file this step was about (the boot file DHCP named, the TFTP or HTTP file sent)
 * @param dhcp     which DHCP answer this was, for DHCP steps
 */
public record BootEvent(Instant at, MacAddress mac, Step step, boolean failed, String detail, long bytes,
                        Optional<Firmware> firmware, Optional<String> address, Optional<String> file,
                        Optional<DhcpAnswer> dhcp) {

    /** The DHCP answers a boot event can stand for. */
    public enum DhcpAnswer {
        OFFER, ACK, RENEW, NAK, INFORM, PROXY_OFFER, PROXY_ACK, DECLINED, NO_ADDRESS, NO_BOOT;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public static Optional<DhcpAnswer> fromWire(String name) {
            try {
                return Optional.of(valueOf(name.trim().toUpperCase(java.util.Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
        }
    }

    public BootEvent {
        Objects.requireNonNull(at);
        Objects.requireNonNull(mac);
        Objects.requireNonNull(step);
        Objects.requireNonNull(detail);
        firmware = firmware.filter(f -> f != Firmware.UNKNOWN);
    }

    public BootEvent(Instant at, MacAddress mac, Step step, boolean failed, String detail, long bytes) {
        this(at, mac, step, failed, detail, bytes, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    public static BootEvent ok(MacAddress mac, Step step, String detail, long bytes) {
        return new BootEvent(Instant.now(), mac, step, false, detail, bytes);
    }

    public static BootEvent failed(MacAddress mac, Step step, String reason) {
        return new BootEvent(Instant.now(), mac, step, true, reason, 0);
    }

    /**
     * A DHCP answer to a plain client: no firmware asking to boot (an operating system taking or renewing its lease,
     * stage 1's udhcpc), so no boot starts here and none waits on it.
     */
    public boolean plainDhcp() {
        return step == Step.DHCP && firmware.isEmpty() && file.isEmpty() && dhcp.isPresent();
    }

    /** Why the step failed; empty when it did not. */
    public Optional<String> reason() {
        return failed ? Optional.of(detail) : Optional.empty();
    }

    public BootEvent withFirmware(Firmware f) {
        return new BootEvent(at, mac, step, failed, detail, bytes, Optional.of(f), address, file, dhcp);
    }

    public BootEvent withAddress(String a) {
        return new BootEvent(at, mac, step, failed, detail, bytes, firmware, Optional.ofNullable(a), file, dhcp);
    }

    public BootEvent withFile(String f) {
        return new BootEvent(at, mac, step, failed, detail, bytes, firmware, address, Optional.ofNullable(f), dhcp);
    }

    public BootEvent withDhcp(DhcpAnswer answer) {
        return new BootEvent(at, mac, step, failed, detail, bytes, firmware, address, file, Optional.of(answer));
    }
}
