package dev.pivot.dhcp;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootPolicy;
import dev.pivot.boot.EventSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Pivot's DHCP server: UDP sockets and one platform thread per receive loop around a {@link DhcpResponder}.
 *
 * <p>Sockets: one on bindAddress:67 hears broadcasts; when bound to the wildcard, a second one on
 * serverAddress:67 sends the replies (and hears unicast renewals). Sending a broadcast from a socket bound to the
 * interface's address makes Linux pick that interface, instead of whatever the default route says. PROXY mode
 * adds bindAddress:4011 for PXE ROMs' ProxyDHCP requests.
 */
public final class DhcpServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(DhcpServer.class);
    private static final int RECEIVE_BUFFER_BYTES = 4 << 20;

    private final DhcpConfig config;
    private final DhcpResponder responder;
    private final List<DatagramChannel> channels = new ArrayList<>();
    private final List<Thread> loops = new ArrayList<>();
    private final LeaseStore leaseStore;
    /** Replies wait here until the lease changes they promise are durable (see {@link #commitLoop()}). */
    private final BlockingQueue<Outgoing> outbox = new LinkedBlockingQueue<>(OUTBOX);
    /** The events a reply stands for ("ack 10.0.0.5"): recorded when it is sent, not when it is only decided. */
    private record Outgoing(DhcpResponder.Reply reply, List<dev.pivot.boot.BootEvent> events) {
    }
    private final EventSink events;
    /** Set while the receive loop asks the responder: its events wait for the reply's fate. */
    private final ThreadLocal<List<dev.pivot.boot.BootEvent>> deciding = new ThreadLocal<>();
    /**
     * Replies waiting for their fsync at most: a burst larger than this while the disk is slow drops the newest
     * (the clients retransmit), instead of growing without bound.
     */
    static final int OUTBOX = 4096;
    private DatagramChannel sender;
    private DatagramChannel proxy;
    private volatile boolean running;
    private boolean boundToInterface = true;

    /** A server with the default offer limits, its refusals counted apart (tests, tools). */
    public DhcpServer(DhcpConfig config, BootPolicy policy, AddressBook addressBook, EventSink events,
                      LeaseStore leaseStore) {
        var refusals = new dev.pivot.boot.Refusals();
        this(config, policy, addressBook, events, leaseStore, refusals,
                new OfferGuard(OfferGuard.Limits.DEFAULTS, mac -> true, refusals));
    }

    /**
     * @param refusals where offers refused under pressure are counted
     * @param guard    who may get an offer: per-MAC and per-source rates, known machines only
     */
    public DhcpServer(DhcpConfig config, BootPolicy policy, AddressBook addressBook, EventSink events,
                      LeaseStore leaseStore, dev.pivot.boot.Refusals refusals, OfferGuard guard) {
        this.config = config;
        this.leaseStore = leaseStore;
        this.events = events;
        Optional<LeasePool> pool = config.pool()
                .filter(p -> config.mode() == DhcpConfig.Mode.FULL)
                .map(p -> new LeasePool(p, config.serverAddress(), leaseStore, Clock.systemUTC(), refusals));
        EventSink held = event -> {
            List<dev.pivot.boot.BootEvent> pending = deciding.get();
            if (pending != null) {
                pending.add(event);
            } else {
                events.emit(event);
            }
        };
        this.responder = new DhcpResponder(config, policy, addressBook, held, pool, guard);
    }

    public synchronized void start() throws IOException {
        if (running) {
            throw new IllegalStateException("DHCP server already started");
        }
        running = true;
        try {
            // Platform threads: each loop runs for the server's life and blocks in the kernel (receive, fsync); on a
            // virtual thread every datagram would also pass through the poller, and an fsync would pin a carrier.
            loops.add(Thread.ofPlatform().name("dhcp-commit").daemon().start(this::commitLoop));
            DatagramChannel listener = open(new InetSocketAddress(config.bindAddress(), config.serverPort()));
            sender = listener;
            startLoop(listener, DhcpResponder.Port.SERVER, "dhcp-" + config.serverPort());
            if (config.bindAddress().isAnyLocalAddress() && !config.serverAddress().isAnyLocalAddress()) {
                sender = open(new InetSocketAddress(config.serverAddress(), config.serverPort()));
                startLoop(sender, DhcpResponder.Port.SERVER, "dhcp-unicast-" + config.serverPort());
            }
            if (config.mode() == DhcpConfig.Mode.PROXY) {
                proxy = open(new InetSocketAddress(config.bindAddress(), config.proxyPort()));
                startLoop(proxy, DhcpResponder.Port.PROXY, "dhcp-proxy-" + config.proxyPort());
            }
        } catch (IOException e) {
            close();
            throw e;
        }
        log.info("DHCP {} server on {} (server address {}{})", config.mode(), config.bindAddress().getHostAddress(),
                config.serverAddress().getHostAddress(), config.interfaceName().map(i -> ", interface " + i).orElse(""));
    }

    private DatagramChannel open(InetSocketAddress address) throws IOException {
        DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
        channels.add(channel);
        channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        channel.setOption(StandardSocketOptions.SO_BROADCAST, true);
        // A boot storm arrives in bursts; the default buffer (~200 KB, ~170 DHCP datagrams once the kernel's
        // per-packet overhead is counted) overflows during one GC pause or scheduling hiccup. The kernel caps the
        // request at net.core.rmem_max.
        channel.setOption(StandardSocketOptions.SO_RCVBUF, RECEIVE_BUFFER_BYTES);
        if (config.interfaceName().isPresent() && boundToInterface) {
            try {
                InterfaceBinding.bind(channel, config.interfaceName().get());
            } catch (IOException e) {
                // Without it we still send out the right interface (the sender is bound to its address), but we
                // also hear DHCP from every other network this host is on: say so once and carry on.
                boundToInterface = false;
                log.warn("DHCP: not bound to interface {}, listening on all interfaces: {}",
                        config.interfaceName().get(), e.getMessage());
            }
        }
        try {
            channel.bind(address);
        } catch (IOException e) {
            throw new IOException("cannot bind DHCP socket to " + address.getAddress().getHostAddress() + ":"
                    + address.getPort() + ": " + e.getMessage(), e);
        }
        return channel;
    }

    private void startLoop(DatagramChannel channel, DhcpResponder.Port port, String name) {
        loops.add(Thread.ofPlatform().name(name).daemon().start(() -> receiveLoop(channel, port)));
    }

    private void receiveLoop(DatagramChannel channel, DhcpResponder.Port port) {
        // One byte more than the limit, so an oversized datagram shows up as oversized instead of cut short.
        ByteBuffer buffer = ByteBuffer.allocate(DhcpPacket.MAX_LENGTH + 1);
        while (running) {
            SocketAddress source;
            try {
                buffer.clear();
                source = channel.receive(buffer);
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (running) {
                    log.warn("DHCP receive failed: {}", e.getMessage());
                }
                continue;
            }
            buffer.flip();
            handle(buffer, (InetSocketAddress) source, port);
        }
    }

    private void handle(ByteBuffer datagram, InetSocketAddress source, DhcpResponder.Port port) {
        DhcpPacket request;
        try {
            request = DhcpPacket.decode(datagram.array(), datagram.limit());
        } catch (DhcpDecodeException e) {
            log.info("dropped DHCP packet from {}: {}", source, e.getMessage());
            return;
        }
        List<dev.pivot.boot.BootEvent> decided = new ArrayList<>(1);
        deciding.set(decided);
        try {
            Optional<DhcpResponder.Reply> reply = responder.handle(request, source, port);
            deciding.remove();
            if (reply.isEmpty()) {
                decided.forEach(events::emit); // no reply: what was seen (a decline, a full range) stands now
            } else if (!outbox.offer(new Outgoing(reply.get(), decided))) {
                log.warn("DHCP: {} replies wait for the disk; dropped one (the client will retransmit)", OUTBOX);
            }
        } catch (Throwable t) {
            deciding.remove();
            // One odd packet, or a passing OutOfMemoryError, must never stop the receive loop.
            log.warn("DHCP request from {} failed: {}", source, t.toString());
        }
    }

    /**
     * Group commit: takes every reply queued so far, makes the lease changes behind them durable with one
     * {@link LeaseStore#sync()} (one fsync), then sends them. While one fsync runs, the receive loops keep
     * answering and queueing, so under load one fsync covers many ACKs instead of one each. If the sync fails the
     * batch is dropped: an ACK for a lease a crash could forget is worse than none (the clients retry).
     */
    private void commitLoop() {
        List<Outgoing> batch = new ArrayList<>();
        while (running || !outbox.isEmpty()) {
            try {
                Outgoing first = outbox.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    idle();
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                return;
            }
            outbox.drainTo(batch);
            try {
                java.util.Set<java.net.Inet4Address> refused = leaseStore.commit();
                for (Outgoing out : batch) {
                    DhcpResponder.Reply reply = out.reply();
                    // yiaddr is the address an OFFER or ACK promises (0.0.0.0 in every other reply).
                    if (refused.isEmpty() || !refused.contains(reply.packet().yiaddr())) {
                        // Recorded first: the client's next packet (or TFTP request) can arrive before a later emit.
                        out.events().forEach(events::emit);
                        send(reply);
                    } else {
                        log.debug("DHCP: not sending {} for {}: another server holds it", reply.packet().messageType()
                                .map(Enum::name).orElse("reply"), reply.packet().yiaddr().getHostAddress());
                    }
                }
                storeBack();
            } catch (Throwable t) {
                storeDown = true;
                sendWithoutTheStore(batch);
                // While the store is down every batch fails: one line every 10 s, with the counts since the last.
                long now = System.nanoTime();
                if (now - lastUnsentLog > TimeUnit.SECONDS.toNanos(10)) {
                    log.error("DHCP: the lease store cannot be written ({}): {} replies not sent (new leases wait for"
                            + " it), {} renewals answered from the leases the store holds, {} replies that promise no"
                            + " lease sent", t.toString(), unsent, renewedWithoutStore, sentWithoutStore);
                    lastUnsentLog = now;
                    unsent = 0;
                    renewedWithoutStore = 0;
                    sentWithoutStore = 0;
                }
            }
            batch.clear();
        }
    }

    /**
     * What can be answered while the store cannot be written: a reply that promises no lease (ProxyDHCP, a NAK),
     * and the ACK of a machine renewing a lease the store already holds for it, cut to the time left on that lease
     * (the store still vouches for it; nothing new needs to be durable). Everything else waits for the store.
     */
    private void sendWithoutTheStore(List<Outgoing> batch) {
        java.time.Instant now = java.time.Instant.now();
        for (Outgoing out : batch) {
            DhcpPacket packet = out.reply().packet();
            if (packet.yiaddr().equals(DhcpPacket.ZERO)) {
                out.events().forEach(events::emit);
                send(out.reply());
                sentWithoutStore++;
                continue;
            }
            Optional<Lease> held = packet.messageType().filter(t -> t == MessageType.ACK)
                    .flatMap(t -> leaseStore.durable(packet.yiaddr()))
                    .filter(l -> l.state() == Lease.State.BOUND
                            && packet.ethernetMac().map(l.mac()::equals).orElse(false)
                            && l.expires().isAfter(now.plusSeconds(MIN_HELD_SECONDS)));
            if (held.isEmpty()) {
                unsent++;
                continue;
            }
            long left = java.time.Duration.between(now, held.get().expires()).toSeconds();
            DhcpPacket cut = packet.toBuilder().optionU32(DhcpOption.LEASE_TIME, left)
                    .optionU32(DhcpOption.RENEWAL_TIME, left / 2).optionU32(DhcpOption.REBINDING_TIME, left * 7 / 8)
                    .build();
            out.events().forEach(events::emit);
            send(new DhcpResponder.Reply(cut, out.reply().destination(), out.reply().via()));
            renewedWithoutStore++;
            log.debug("DHCP: lease store down: renewed {} for {} from the lease it holds there ({} s left)",
                    packet.yiaddr().getHostAddress(), held.get().mac(), left);
        }
    }

    /** A lease with less time left than this is not renewed while the store is down (the client may as well wait). */
    static final long MIN_HELD_SECONDS = 10;
    /** Whether the last commit failed (commit thread only). */
    private boolean storeDown;
    private long renewedWithoutStore;
    private long sentWithoutStore;

    /** Replies dropped for a failed commit since the last time that was logged (commit thread only). */
    private long unsent;
    private long lastUnsentLog = System.nanoTime() - TimeUnit.MINUTES.toNanos(1);

    private void storeBack() {
        if (storeDown) {
            storeDown = false;
            log.info("DHCP: the lease store is reachable again: new leases and renewals are written again");
        }
    }

    private void idle() {
        try {
            leaseStore.idle();
            storeBack();
        } catch (RuntimeException e) {
            log.debug("DHCP: lease store not caught up: {}", e.getMessage());
        }
    }

    private void send(DhcpResponder.Reply reply) {
        DatagramChannel via = reply.via() == DhcpResponder.Port.PROXY ? proxy : sender;
        if (via == null || !via.isOpen()) {
            return;
        }
        try {
            via.send(ByteBuffer.wrap(reply.packet().encode()), reply.destination());
        } catch (IOException e) {
            log.warn("DHCP reply to {} failed: {}", reply.destination(), e.getMessage());
        }
    }

    @Override
    public synchronized void close() {
        running = false;
        // Replies already queued still go out (their leases are stored), then the sockets close.
        for (Thread loop : loops) {
            if (loop.getName().equals("dhcp-commit")) {
                try {
                    loop.join(2000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        for (DatagramChannel channel : channels) {
            try {
                channel.close();
            } catch (IOException e) {
                log.debug("closing DHCP socket: {}", e.getMessage());
            }
        }
        for (Thread loop : loops) {
            try {
                loop.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        channels.clear();
        loops.clear();
    }
}
