package dev.pivot.dhcp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.FirstLoader;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.BootEvent.DhcpAnswer;
import dev.pivot.boot.EventSink;
import dev.pivot.boot.Step;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The DHCP protocol decisions, without sockets: one request in, at most one reply out (with where to send it).
 * Asks the domain's {@link BootPolicy} what a machine loads first, records leases, learns addresses and emits a
 * {@link Step#DHCP} event for every answer.
 */
public final class DhcpResponder {

    private static final Logger log = LoggerFactory.getLogger(DhcpResponder.class);

    /** Which socket a request arrived on: the DHCP server port (67) or the PXE ProxyDHCP port (4011). */
    public enum Port { SERVER, PROXY }

    /** A reply and where it goes; {@code via} is the socket to send it from. */
    public record Reply(DhcpPacket packet, InetSocketAddress destination, Port via) {
    }

    private final DhcpConfig config;
    private final BootPolicy policy;
    private final AddressBook addressBook;
    private final EventSink events;
    private final Optional<LeasePool> leases;
    private final Optional<IpxeUpgrade> upgrade;
    private final OfferGuard guard;
    /** The last NoBoot reason logged per machine, so a retrying ROM does not flood the log. */
    private final ConcurrentHashMap<MacAddress, String> noBootLogged = new ConcurrentHashMap<>();

    public DhcpResponder(DhcpConfig config, BootPolicy policy, AddressBook addressBook, EventSink events,
                         Optional<LeasePool> leases) {
        this(config, policy, addressBook, events, leases, OfferGuard.defaults());
    }

    /** @param guard who may get an offer (rates, known machines only), asked before an address is picked */
    public DhcpResponder(DhcpConfig config, BootPolicy policy, AddressBook addressBook, EventSink events,
                         Optional<LeasePool> leases, OfferGuard guard) {
        if (config.mode() == DhcpConfig.Mode.FULL && leases.isEmpty()) {
            throw new IllegalArgumentException("FULL DHCP mode needs a lease pool");
        }
        this.config = config;
        this.policy = policy;
        this.addressBook = addressBook;
        this.events = events;
        this.leases = leases;
        this.guard = guard;
        this.upgrade = config.upgradeIpxe() ? Optional.of(new IpxeUpgrade(policy, java.time.Clock.systemUTC()))
                : Optional.empty();
    }

    public Optional<Reply> handle(DhcpPacket request, InetSocketAddress source, Port port) {
        if (request.op() != DhcpPacket.BOOTREQUEST) {
            return Optional.empty(); // another server's reply, seen because we listen on the broadcast address
        }
        Optional<MessageType> type = request.messageType();
        Optional<ClientFacts> facts = ClientFacts.of(request);
        if (type.isEmpty() || facts.isEmpty()) {
            log.debug("ignoring {} from {}: {}", type.map(Enum::name).orElse("BOOTP request"), source,
                    facts.isEmpty() ? "not an Ethernet client" : "no message type");
            return Optional.empty();
        }
        return switch (config.mode()) {
            case PROXY -> proxy(request, facts.get(), type.get(), source, port);
            case FULL -> full(request, facts.get(), type.get(), source);
        };
    }

    // ---------------------------------------------------------------- ProxyDHCP

    private Optional<Reply> proxy(DhcpPacket request, ClientFacts facts, MessageType type, InetSocketAddress source,
                                  Port port) {
        if (!facts.pxe()) {
            return Optional.empty(); // the network's own DHCP server serves everybody else
        }
        learnAddress(request, facts.mac());
        boolean discover = port == Port.SERVER && type == MessageType.DISCOVER;
        boolean pxeRequest = port == Port.PROXY && (type == MessageType.REQUEST || type == MessageType.INFORM);
        if (!discover && !pxeRequest) {
            return Optional.empty();
        }
        if (discover && guard.check(facts.mac(), request.giaddr(), source, false) != OfferGuard.Verdict.OFFER) {
            return Optional.empty();
        }
        BootAnswer answer = answerFor(facts, request.xid());
        if (!answer.boots()) {
            return Optional.empty();
        }
        DhcpPacket.Builder reply = replyTo(request, discover ? MessageType.OFFER : MessageType.ACK)
                .siaddr(config.serverAddress())
                .option(DhcpOption.VENDOR_CLASS, "PXEClient");
        if (pxeRequest) {
            reply.ciaddr(request.ciaddr());
        }
        // PXE 2.1 §2.4.7: discovery control 8 = skip boot server discovery/menus, load the file at once.
        // UEFI PXE clients are known to misbehave when option 43 is present (pixiecore leaves it out for them).
        if (!facts.uefi()) {
            reply.option(DhcpOption.VENDOR_ENCAPSULATED, new byte[]{DhcpOption.PXE_DISCOVERY_CONTROL, 1, 8,
                    (byte) DhcpOption.END});
        }
        request.option(DhcpOption.CLIENT_UUID).ifPresent(uuid -> reply.option(DhcpOption.CLIENT_UUID, uuid));
        answer.applyTo(reply);
        InetSocketAddress destination;
        if (discover) {
            destination = destination(request, MessageType.OFFER);
        } else {
            destination = source.getAddress().isAnyLocalAddress()
                    ? new InetSocketAddress(DhcpPacket.BROADCAST, config.clientPort()) : source;
        }
        emit(facts, discover ? DhcpAnswer.PROXY_OFFER : DhcpAnswer.PROXY_ACK,
                (discover ? "proxy offer " : "proxy ack ") + answer.bootFile(), Optional.empty(),
                Optional.of(answer.bootFile()));
        return Optional.of(new Reply(reply.build(), destination, port));
    }

    // ---------------------------------------------------------------- full DHCP

    private Optional<Reply> full(DhcpPacket request, ClientFacts facts, MessageType type, InetSocketAddress source) {
        LeasePool pool = leases.orElseThrow();
        MacAddress mac = facts.mac();
        Optional<Inet4Address> serverId = request.address(DhcpOption.SERVER_ID);
        boolean forUs = serverId.isEmpty() || serverId.get().equals(config.serverAddress());
        Optional<Inet4Address> requested = request.address(DhcpOption.REQUESTED_IP);
        switch (type) {
            case DISCOVER -> {
                if (guard.check(mac, request.giaddr(), source, pool.hadLease(mac)) != OfferGuard.Verdict.OFFER) {
                    return Optional.empty(); // counted and logged once a minute by the guard
                }
                Optional<Inet4Address> address = pool.offer(mac, requested);
                if (address.isEmpty()) {
                    // Counted and logged once a minute by the pool. Refused for the offers held (a flood of made-up
                    // MACs): no boot record each; a really full range is the operator's to see on the timeline.
                    if (!pool.lastRefusalWasPressure()) {
                        events.emit(BootEvent.failed(mac, Step.DHCP, "no free address in the DHCP range")
                                .withFirmware(facts.firmware()).withDhcp(DhcpAnswer.NO_ADDRESS));
                    }
                    return Optional.empty();
                }
                return Optional.of(leaseReply(request, facts, MessageType.OFFER, address.get()));
            }
            case REQUEST -> {
                if (!forUs) {
                    pool.forgetOffer(mac); // it took another server's offer
                    return Optional.empty();
                }
                Optional<Inet4Address> wanted = requested.or(() -> nonZero(request.ciaddr()));
                if (wanted.isEmpty()) {
                    return Optional.empty();
                }
                if (pool.bind(mac, wanted.get()).isEmpty()) {
                    log.info("DHCP: NAK {} for {}: not in the range or leased to another machine",
                            wanted.get().getHostAddress(), mac);
                    emit(facts, DhcpAnswer.NAK, "nak " + wanted.get().getHostAddress(), wanted, Optional.empty());
                    DhcpPacket nak = replyTo(request, MessageType.NAK)
                            .option(DhcpOption.MESSAGE, "address not available").build();
                    return Optional.of(new Reply(nak, destination(request, MessageType.NAK), Port.SERVER));
                }
                addressBook.learn(wanted.get(), mac);
                Reply ack = leaseReply(request, facts, MessageType.ACK, wanted.get());
                return Optional.of(ack);
            }
            case DECLINE -> {
                if (forUs) {
                    requested.ifPresent(a -> {
                        pool.decline(mac, a);
                        log.warn("DHCP: {} declined {} (in use on the network?)", mac, a.getHostAddress());
                        events.emit(BootEvent.failed(mac, Step.DHCP, "declined " + a.getHostAddress()
                                + ": address already in use").withDhcp(DhcpAnswer.DECLINED)
                                .withAddress(a.getHostAddress()));
                    });
                }
                return Optional.empty();
            }
            case RELEASE -> {
                if (forUs) {
                    pool.release(mac, request.ciaddr());
                }
                return Optional.empty();
            }
            case INFORM -> {
                DhcpPacket.Builder ack = replyTo(request, MessageType.ACK).ciaddr(request.ciaddr());
                networkOptions(ack, false);
                Optional<String> file = bootOptions(ack, facts, request.xid());
                emit(facts, DhcpAnswer.INFORM, "inform " + request.ciaddr().getHostAddress() + arrow(file),
                        nonZero(request.ciaddr()), file);
                return Optional.of(new Reply(ack.build(), destination(request, MessageType.ACK), Port.SERVER));
            }
            default -> {
                return Optional.empty();
            }
        }
    }

    private Reply leaseReply(DhcpPacket request, ClientFacts facts, MessageType type, Inet4Address address) {
        DhcpPacket.Builder reply = replyTo(request, type).yiaddr(address);
        if (type == MessageType.ACK) {
            reply.ciaddr(request.ciaddr());
        }
        networkOptions(reply, true);
        // A REQUEST carrying ciaddr is a renewal (RFC 2131 §4.3.2): worth telling apart in the boot timeline.
        boolean renewal = type == MessageType.ACK && !request.ciaddr().isAnyLocalAddress();
        DhcpAnswer kind = renewal ? DhcpAnswer.RENEW : type == MessageType.ACK ? DhcpAnswer.ACK : DhcpAnswer.OFFER;
        Optional<String> file = bootOptions(reply, facts, request.xid());
        emit(facts, kind, kind.wire() + " " + address.getHostAddress() + arrow(file), Optional.of(address), file);
        return new Reply(reply.build(), destination(request, type), Port.SERVER);
    }

    /** Adds the boot fields for PXE and iPXE clients; returns the boot file named, empty for plain clients. */
    private Optional<String> bootOptions(DhcpPacket.Builder reply, ClientFacts facts, int xid) {
        if (!facts.wantsBoot()) {
            return Optional.empty();
        }
        BootAnswer answer = answerFor(facts, xid);
        if (!answer.boots()) {
            return Optional.empty();
        }
        answer.applyTo(reply);
        if (facts.ipxe()) {
            // iPXE otherwise waits 2 s (DHCP_DISC_PROXY_TIMEOUT_SEC) for ProxyDHCP offers that will never come.
            reply.option(DhcpOption.IPXE_ENCAPSULATED, new byte[]{(byte) DhcpOption.IPXE_NO_PXEDHCP, 1, 1});
        }
        return Optional.of(answer.bootFile());
    }

    private static String arrow(Optional<String> file) {
        return file.map(f -> " → " + f).orElse("");
    }

    private void networkOptions(DhcpPacket.Builder reply, boolean withLease) {
        DhcpConfig.Pool pool = config.pool().orElseThrow();
        reply.option(DhcpOption.SUBNET_MASK, pool.netmask());
        pool.router().ifPresent(r -> reply.option(DhcpOption.ROUTER, r));
        if (!pool.dns().isEmpty()) {
            reply.option(DhcpOption.DNS, pool.dns().toArray(new Inet4Address[0]));
        }
        reply.option(DhcpOption.BROADCAST_ADDRESS, Ipv4.broadcast(config.serverAddress(), pool.prefixLength()));
        if (withLease) {
            long seconds = pool.leaseTime().toSeconds();
            reply.optionU32(DhcpOption.LEASE_TIME, seconds)
                    .optionU32(DhcpOption.RENEWAL_TIME, seconds / 2)
                    .optionU32(DhcpOption.REBINDING_TIME, seconds * 7 / 8);
        }
    }

    // ---------------------------------------------------------------- shared

    private BootAnswer answerFor(ClientFacts facts, int xid) {
        FirstLoader loader = upgrade.flatMap(u -> u.loaderFor(facts.bootClient(), xid))
                .<FirstLoader>map(f -> f).orElseGet(() -> policy.firstLoader(facts.bootClient()));
        BootAnswer answer = BootAnswer.of(loader, config.serverAddress(), config.httpPort());
        if (!answer.boots() && !answer.noBootReason().equals(noBootLogged.put(facts.mac(), answer.noBootReason()))) {
            log.info("DHCP: not booting {} ({}): {}", facts.mac(), facts.vendorClass(), answer.noBootReason());
            events.emit(BootEvent.failed(facts.mac(), Step.DHCP, answer.noBootReason())
                    .withFirmware(facts.firmware()).withDhcp(DhcpAnswer.NO_BOOT));
        }
        return answer;
    }

    /** RFC 2131 table 3: the fields every reply copies from the request, plus type and server id. */
    private DhcpPacket.Builder replyTo(DhcpPacket request, MessageType type) {
        DhcpPacket.Builder reply = DhcpPacket.builder().op(DhcpPacket.BOOTREPLY).htype(request.htype())
                .hlen(request.hlen()).xid(request.xid()).flags(request.flags()).giaddr(request.giaddr())
                .chaddr(request.chaddr()).type(type).option(DhcpOption.SERVER_ID, config.serverAddress());
        // RFC 3046 §2.2: a relay's agent information comes back unchanged.
        request.option(DhcpOption.RELAY_AGENT_INFO).ifPresent(v -> reply.option(DhcpOption.RELAY_AGENT_INFO, v));
        return reply;
    }

    /** RFC 2131 §4.1: via the relay, else to the client's address, else broadcast (we never ARP-inject yiaddr). */
    private InetSocketAddress destination(DhcpPacket request, MessageType type) {
        if (!request.giaddr().isAnyLocalAddress()) {
            return new InetSocketAddress(request.giaddr(), config.serverPort());
        }
        if (type != MessageType.NAK && !request.ciaddr().isAnyLocalAddress()) {
            return new InetSocketAddress(request.ciaddr(), config.clientPort());
        }
        return new InetSocketAddress(DhcpPacket.BROADCAST, config.clientPort());
    }

    private void learnAddress(DhcpPacket request, MacAddress mac) {
        nonZero(request.ciaddr()).or(() -> request.address(DhcpOption.REQUESTED_IP))
                .ifPresent(a -> addressBook.learn(a, mac));
    }

    private static Optional<Inet4Address> nonZero(Inet4Address a) {
        return a.isAnyLocalAddress() ? Optional.empty() : Optional.of(a);
    }

    private void emit(ClientFacts facts, DhcpAnswer kind, String detail, Optional<Inet4Address> address,
                      Optional<String> file) {
        log.info("DHCP {}: {}", facts.mac(), detail);
        events.emit(new BootEvent(java.time.Instant.now(), facts.mac(), Step.DHCP, false, detail, 0,
                Optional.of(facts.firmware()), address.map(Inet4Address::getHostAddress), file, Optional.of(kind)));
    }
}
