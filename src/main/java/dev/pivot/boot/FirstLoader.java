package dev.pivot.boot;

/**
 * The domain's answer to "what does this machine load first?", which DHCP encodes as a file name or URL. It names
 * what to load, never where on the HTTP server it lives: the routes belong to the loaders.
 */
public sealed interface FirstLoader {

    /** A file to fetch over TFTP from this server, e.g. "undionly.kpxe". */
    record TftpFile(String name) implements FirstLoader {
    }

    /** An iPXE client: chain to this machine's script on the HTTP server. */
    record IpxeScript(MacAddress mac) implements FirstLoader {
    }

    /**
     * UEFI HTTP Boot: a first loader by file name from the HTTP server: one of the distro's iPXE binaries
     * ("ipxe.efi"), or GRUB for arm64.
     */
    record HttpFile(String name) implements FirstLoader {
    }

    /** This machine cannot be booted; DHCP stays silent and logs the reason once. */
    record NoBoot(String reason) implements FirstLoader {
    }
}
