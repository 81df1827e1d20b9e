/**
 * Pivot's DHCP: ProxyDHCP next to an existing DHCP server, or a full DHCP server for an isolated boot network.
 *
 * <p>Flow: {@link dev.pivot.dhcp.DhcpServer} receives a datagram, {@link dev.pivot.dhcp.DhcpPacket} decodes it
 * (malformed ones are dropped with one log line), {@link dev.pivot.dhcp.ClientFacts} says who asks,
 * {@link dev.pivot.dhcp.DhcpResponder} asks the domain's {@code BootPolicy} for the first loader, turns it into
 * a {@link dev.pivot.dhcp.BootAnswer} (file field, options 66/67, siaddr), leases an address through
 * {@link dev.pivot.dhcp.LeasePool} in FULL mode, and emits one {@code BootEvent} (step DHCP) per answer.
 *
 * <p>Wiring: {@code new DhcpServer(DhcpConfig.full(serverIp, httpPort, pool).withInterface("eth1"), policy,
 * addressBook, events, leases).start()}. Naming an interface binds the sockets to it (SO_BINDTODEVICE), which needs
 * {@code --add-exports java.base/sun.nio.ch=ALL-UNNAMED --enable-native-access=ALL-UNNAMED} on the java command
 * line; without them the server logs one warning and listens on all interfaces (replies still leave through the
 * interface that holds the server address).
 *
 * <p>Imports {@link dev.pivot.boot} and {@link dev.pivot.loaders} (for the boot URL); never another protocol adapter.
 */
package dev.pivot.dhcp;
