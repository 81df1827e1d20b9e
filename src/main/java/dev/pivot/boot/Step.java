package dev.pivot.boot;

/** The steps of one boot, in the order a healthy boot passes them. */
public enum Step {
    /** DHCP discover/offer/request/ack or a ProxyDHCP answer. */
    DHCP,
    /** A file sent over TFTP (the first loader, usually iPXE). */
    TFTP,
    /** The per-machine iPXE script. */
    SCRIPT,
    KERNEL,
    INITRD,
    /** The root image (squashfs) fetched by stage 1. */
    ROOT_IMAGE,
    /** Reported by Pivot's stage 1: it started (kernel booted, prelude running). */
    STAGE1,
    /** Reported by stage 1: the NIC driver is loaded and DHCP gave an address. */
    NETWORK,
    /** Reported by stage 1: the root image is in place (and verified, where it was). */
    ROOT_FETCHED,
    /** Reported by stage 1: handing over to the image's own stage 1 / switch_root. */
    HANDOVER,
    /** Stage 2 (the image's init) reached. */
    STAGE2,
    /**
     * Recorded by Pivot, not by the machine: no next event came within the deadline of the step the boot was at
     * (the machine hangs, lost its network, or was switched off). The machine's next DHCP starts a new session.
     */
    STALLED;

    /**
     * Whether an event of this step shows that a machine got past DHCP (fetched a file or its script, or reported
     * from a booted kernel). Only such a machine gets a machine record: a DISCOVER from a made-up MAC does not.
     */
    public boolean pastDhcp() {
        return this != DHCP && this != STALLED;
    }

    /** Parses the wire name used by stage 1 reports ("network", "root_fetched", …), case-insensitive. */
    public static Step fromWire(String name) {
        return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    }

    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
