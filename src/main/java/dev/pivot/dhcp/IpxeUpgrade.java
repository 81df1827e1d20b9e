package dev.pivot.dhcp;

import dev.pivot.boot.BootClient;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.FirstLoader;
import dev.pivot.boot.MacAddress;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The optional iPXE upgrade chain: an iPXE client (a NIC's ROM, often an old build) is first handed the distro's
 * own iPXE over TFTP, and only the iPXE that then starts gets the boot script.
 *
 * <p>A stateless server cannot tell the two apart: QEMU's ROM iPXE and a chained undionly.kpxe send byte-identical
 * DHCP packets (netboot-facts pitfall 9), so "iPXE → upgrade" would loop forever. Hence per-MAC state: the DHCP
 * session (xid) that was handed the upgrade keeps getting it (retransmissions, its REQUEST after the OFFER); the
 * next session from that MAC within {@link #WINDOW} is the upgraded iPXE and gets the script. After the window a
 * reboot upgrades again. State is in memory: after a Pivot restart a machine gets at most one extra upgrade.
 */
final class IpxeUpgrade {

    /** How long after handing out the upgrade a new DHCP session from the machine counts as the upgraded iPXE. */
    static final Duration WINDOW = Duration.ofMinutes(5);

    private record Handed(int xid, Instant at) {
    }

    private final BootPolicy policy;
    private final Clock clock;
    private final ConcurrentHashMap<MacAddress, Handed> handed = new ConcurrentHashMap<>();

    IpxeUpgrade(BootPolicy policy, Clock clock) {
        this.policy = policy;
        this.clock = clock;
    }

    /** The TFTP loader to hand this iPXE client instead of the script, or empty when it should get the script. */
    Optional<FirstLoader.TftpFile> loaderFor(BootClient client, int xid) {
        if (!client.ipxe()) {
            return Optional.empty();
        }
        // Only the distro's iPXE build for this firmware over TFTP is an upgrade (not shim, a UEFI client's default).
        Optional<FirstLoader.TftpFile> build = policy.ipxeBuild(client.firmware());
        if (build.isEmpty()) {
            return Optional.empty();
        }
        FirstLoader.TftpFile file = build.get();
        Instant now = clock.instant();
        Handed result = handed.compute(client.mac(), (mac, before) -> {
            if (before == null || before.at().plus(WINDOW).isBefore(now)) {
                return new Handed(xid, now); // a fresh boot: upgrade it
            }
            return before; // within the window: the same session keeps its answer, a new one is the upgraded iPXE
        });
        return result.xid() == xid ? Optional.of(file) : Optional.empty();
    }
}
