package dev.pivot.cli;

import dev.pivot.server.ServerConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/** {@code --limit NAME=N}: one flag for every bound of {@link ServerConfig.Limits}, by name. */
final class ServerLimits {

    private static final ServerConfig.Limits D = ServerConfig.Limits.DEFAULTS;

    /** Each bound's name, what it bounds, and its default. */
    record Bound(String name, String meaning, ToIntFunction<ServerConfig.Limits> value) {
    }

    static final List<Bound> BOUNDS = List.of(
            new Bound("tftp-transfers", "TFTP transfers at once", ServerConfig.Limits::tftpTransfers),
            new Bound("tftp-transfers-per-client", "... from one address", ServerConfig.Limits::tftpPerClient),
            new Bound("tftp-window-bytes", "memory of one TFTP window", ServerConfig.Limits::tftpWindowBytes),
            new Bound("http-connections", "open HTTP connections", ServerConfig.Limits::httpConnections),
            new Bound("http-connections-per-ip", "... from one address", ServerConfig.Limits::httpConnectionsPerIp),
            new Bound("http-idle-seconds", "close a silent HTTP connection", ServerConfig.Limits::httpIdleSeconds),
            new Bound("http-downloads", "artifact downloads at once", ServerConfig.Limits::httpDownloads),
            new Bound("http-downloads-per-ip", "... from one address", ServerConfig.Limits::httpDownloadsPerIp),
            new Bound("event-streams", "live event streams", ServerConfig.Limits::eventStreams),
            new Bound("api-body-bytes", "largest API request body", ServerConfig.Limits::apiBodyBytes),
            new Bound("dhcp-offers-per-mac", "DHCP offers to one MAC a minute",
                    ServerConfig.Limits::dhcpOffersPerMac),
            new Bound("dhcp-offers-per-source", "DHCP offers a second to new machines per relay or sender",
                    ServerConfig.Limits::dhcpOffersPerSource));

    /** For --help (an annotation needs a constant; ServerLimitsTest holds it to {@link #help()}). */
    static final String NAMES_HELP = "tftp-transfers (TFTP transfers at once, default 256), tftp-transfers-per-client"
            + " (... from one address, default 8), tftp-window-bytes (memory of one TFTP window, default 98304),"
            + " http-connections (open HTTP connections, default 4096), http-connections-per-ip (... from one address,"
            + " default 64), http-idle-seconds (close a silent HTTP connection, default 30), http-downloads (artifact"
            + " downloads at once, default 2048), http-downloads-per-ip (... from one address, default 16),"
            + " event-streams (live event streams, default 64), api-body-bytes (largest API request body, default"
            + " 65536), dhcp-offers-per-mac (DHCP offers to one MAC a minute, default 60), dhcp-offers-per-source"
            + " (DHCP offers a second to new machines per relay or sender, default 1000)";

    static String help() {
        return String.join(", ", BOUNDS.stream()
                .map(b -> b.name() + " (" + b.meaning() + ", default " + b.value().applyAsInt(D) + ")").toList());
    }

    record Setting(String name, int value) {
        static Setting parse(String text) {
            int eq = text.indexOf('=');
            String name = eq < 0 ? text : text.substring(0, eq);
            if (BOUNDS.stream().noneMatch(b -> b.name().equals(name))) {
                throw new IllegalArgumentException("--limit " + text + ": unknown limit '" + name + "' (known: "
                        + String.join(", ", BOUNDS.stream().map(Bound::name).toList()) + ")");
            }
            String v = eq < 0 ? "" : text.substring(eq + 1);
            if (!v.matches("\\d{1,9}") || Integer.parseInt(v) < 1) {
                throw new IllegalArgumentException("--limit " + text + ": expected NAME=N with N a whole number >= 1");
            }
            return new Setting(name, Integer.parseInt(v));
        }
    }

    private ServerLimits() {
    }

    /** The defaults with {@code settings} applied (the last one of a name wins). */
    static ServerConfig.Limits apply(List<Setting> settings, boolean trustHostHeader) {
        return apply(settings, trustHostHeader, false);
    }

    /** @param dhcpKnownOnly DHCP answers only machines Pivot knows */
    static ServerConfig.Limits apply(List<Setting> settings, boolean trustHostHeader, boolean dhcpKnownOnly) {
        Map<String, Integer> v = new LinkedHashMap<>();
        BOUNDS.forEach(b -> v.put(b.name(), b.value().applyAsInt(D)));
        settings.forEach(s -> v.put(s.name(), s.value()));
        return new ServerConfig.Limits(v.get("tftp-transfers"), v.get("tftp-transfers-per-client"),
                v.get("tftp-window-bytes"), v.get("http-connections"), v.get("http-connections-per-ip"),
                v.get("http-idle-seconds"), v.get("http-downloads"), v.get("http-downloads-per-ip"),
                v.get("event-streams"), v.get("api-body-bytes"), trustHostHeader,
                v.get("dhcp-offers-per-mac"), v.get("dhcp-offers-per-source"), dhcpKnownOnly);
    }
}
