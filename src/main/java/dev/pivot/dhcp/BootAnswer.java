package dev.pivot.dhcp;

import dev.pivot.boot.FirstLoader;
import dev.pivot.loaders.Routes;

import java.net.Inet4Address;

/**
 * The boot part of a DHCP reply, from the domain's {@link FirstLoader}: what goes in siaddr, the file field and
 * options 66/67 (and 60 for UEFI HTTP Boot). {@link #none} when the loader is {@link FirstLoader.NoBoot}.
 *
 * @param bootFile       the file field and option 67: a TFTP file name or an http:// URL
 * @param tftpServer     set for TFTP loaders: siaddr and option 66
 * @param httpClientBoot UEFI HTTP Boot: the reply must carry vendor class "HTTPClient"
 * @param noBootReason   why there is no answer, when there is none
 */
public record BootAnswer(String bootFile, Inet4Address tftpServer, boolean httpClientBoot, String noBootReason) {

    public static BootAnswer of(FirstLoader loader, Inet4Address server, int httpPort) {
        String base = Routes.baseUrl(server, httpPort);
        return switch (loader) {
            case FirstLoader.TftpFile f -> new BootAnswer(f.name(), server, false, null);
            case FirstLoader.IpxeScript s -> new BootAnswer(base + Routes.scriptPath(s.mac()), null, false, null);
            case FirstLoader.HttpFile h -> new BootAnswer(base + Routes.ipxeFilePath(h.name()), null, true, null);
            case FirstLoader.NoBoot n -> none(n.reason());
        };
    }

    public static BootAnswer none(String reason) {
        return new BootAnswer(null, null, false, reason);
    }

    public boolean boots() {
        return bootFile != null;
    }

    /** Writes the boot fields into a reply. */
    public DhcpPacket.Builder applyTo(DhcpPacket.Builder reply) {
        if (!boots()) {
            return reply;
        }
        reply.file(bootFile).option(DhcpOption.BOOTFILE_NAME, bootFile);
        if (tftpServer != null) {
            reply.siaddr(tftpServer).option(DhcpOption.TFTP_SERVER_NAME, tftpServer.getHostAddress());
        }
        if (httpClientBoot) {
            reply.option(DhcpOption.VENDOR_CLASS, "HTTPClient");
        }
        return reply;
    }
}
