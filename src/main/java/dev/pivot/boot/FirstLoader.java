package dev.pivot.boot;

/** The domain's answer to "what does this machine load first?", which DHCP encodes as a file name or URL. */
public sealed interface FirstLoader {

    /** A file to fetch over TFTP from this server, e.g. "undionly.kpxe". */
    record TftpFile(String name) implements FirstLoader {
    }

    /** An iPXE client: chain to the per-machine script at this path of the HTTP server ("/boot.ipxe?mac=…"). */
    record IpxeScript(String path) implements FirstLoader {
    }

    /** UEFI HTTP Boot: an EFI binary at this path of the HTTP server. */
    record HttpFile(String path) implements FirstLoader {
    }

    /** This machine cannot be booted; DHCP stays silent and logs the reason once. */
    record NoBoot(String reason) implements FirstLoader {
    }
}
