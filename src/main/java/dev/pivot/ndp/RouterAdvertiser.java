package dev.pivot.ndp;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Ends iPXE's (and any host's) wait for IPv6 autoconfiguration on a link without an IPv6 router: it answers router
 * solicitations with an advertisement that configures nothing (router lifetime 0, no prefix, no DHCPv6 flags),
 * which tells a host "no router here" at once instead of after its timeout. It stays silent while a real router
 * advertises on the link (see {@link Advertising}), so an IPv6 network with its own router is left as it is.
 *
 * <p>Flow: {@link Icmpv6Socket} receives, {@link NdpMessage} decodes (a malformed message is dropped with one log
 * line), {@link Advertising} decides, and a scheduler sends the one multicast answer. Answers are logged, not
 * emitted as boot events: every IPv6 host solicits (Linux in stage 1 and stage 2 too), so a solicitation says
 * nothing about where a boot is.
 */
public final class RouterAdvertiser implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RouterAdvertiser.class);
    private static final int RECEIVE_TIMEOUT_MILLIS = 500;
    private static final long SOLICIT_RETRY_MILLIS = 250;
    private static final Duration WARN_EVERY = Duration.ofMinutes(1);
    /** Solicitors named in one log line at most (a flood must not grow the list). */
    private static final int MAX_NAMED = 64;

    private final Icmpv6Socket socket;
    private final Advertising advertising = new Advertising(
            () -> ThreadLocalRandom.current().nextLong(Advertising.MAX_DELAY.toMillis() + 1));
    private final Clock clock = Clock.systemUTC();
    private final ScheduledExecutorService sender;
    private final Thread reader;
    private final Set<String> askedBy = new LinkedHashSet<>();
    private volatile boolean running = true;
    private Instant lastWarning = Instant.EPOCH;
    private long sent;

    private RouterAdvertiser(Icmpv6Socket socket) {
        this.socket = socket;
        this.sender = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("ndp-send").daemon().factory());
        this.reader = Thread.ofPlatform().name("ndp-" + socket.interfaceName()).daemon().unstarted(this::receiveLoop);
    }

    /**
     * Starts answering on {@code interfaceName}, and solicits once so a router already on the link is known
     * before the first machine asks.
     *
     * @throws IOException when the raw socket cannot be opened (no CAP_NET_RAW, IPv6 off, no such interface)
     */
    public static RouterAdvertiser start(String interfaceName) throws IOException {
        RouterAdvertiser advertiser = new RouterAdvertiser(Icmpv6Socket.open(interfaceName, RECEIVE_TIMEOUT_MILLIS));
        log.info("IPv6: answering router solicitations on {} with 'no router here' while no IPv6 router "
                + "advertises there (--no-ipv6-ra turns this off)", interfaceName);
        advertiser.reader.start();
        advertiser.solicitUntilSent();
        return advertiser;
    }

    /**
     * Sends Pivot's own router solicitation; an interface without carrier has no link-local address to send it from
     * yet, so it is tried again until it goes out (the first machine on the link brings the carrier). Until it does,
     * answers wait the random delay (see {@link Advertising}).
     */
    private void solicitUntilSent() {
        if (!running) {
            return;
        }
        try {
            socket.sendTo(Icmpv6Socket.ALL_ROUTERS, NdpMessage.encodeSolicitation());
            advertising.probed(clock.instant());
        } catch (IOException e) {
            log.debug("IPv6: no router solicitation yet: {}", e.getMessage());
            try {
                sender.schedule(this::solicitUntilSent, SOLICIT_RETRY_MILLIS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // closed meanwhile
            }
        }
    }

    /** Advertisements sent so far. */
    public synchronized long sent() {
        return sent;
    }

    private void receiveLoop() {
        while (running) {
            Optional<Icmpv6Socket.Received> got;
            try {
                got = socket.receive();
            } catch (IOException e) {
                if (running) {
                    warn("IPv6: " + e.getMessage());
                    pause();
                }
                continue;
            }
            got.ifPresent(this::handle);
        }
    }

    private void handle(Icmpv6Socket.Received datagram) {
        Optional<NdpMessage> message;
        try {
            message = NdpMessage.decode(datagram.data(), datagram.length());
        } catch (NdpDecodeException e) {
            warn("IPv6: dropped a malformed message from " + address(datagram.source()) + ": " + e.getMessage());
            return;
        }
        Instant now = clock.instant();
        switch (message.orElse(null)) {
            case NdpMessage.RouterSolicitation rs -> {
                synchronized (this) {
                    if (askedBy.size() < MAX_NAMED) {
                        askedBy.add(rs.mac().orElse(address(datagram.source())));
                    }
                }
                advertising.solicited(now).ifPresent(at -> sender.schedule(this::answer,
                        Math.max(0, Duration.between(now, at).toMillis()), TimeUnit.MILLISECONDS));
                if (advertising.routerPresent(now)) {
                    synchronized (this) {
                        askedBy.clear();
                    }
                }
            }
            case NdpMessage.RouterAdvertisement ra -> {
                boolean wasPresent = advertising.routerPresent(now);
                advertising.heard(ra, now);
                if (!wasPresent && advertising.routerPresent(now)) {
                    log.info("IPv6: router {} advertises on {}: Pivot stays silent while it does",
                            address(datagram.source()), socket.interfaceName());
                }
            }
            case null -> {
            }
        }
    }

    private void answer() {
        if (!running || !advertising.due(clock.instant())) {
            return;
        }
        List<String> who;
        synchronized (this) {
            who = List.copyOf(askedBy);
            askedBy.clear();
        }
        try {
            socket.sendTo(Icmpv6Socket.ALL_NODES,
                    NdpMessage.encode(NdpMessage.RouterAdvertisement.nothingToConfigure(Optional.empty())));
            synchronized (this) {
                sent++;
            }
            log.info("IPv6: told {} on {} there is no IPv6 router (advertisement with router lifetime 0, no prefix)",
                    who.size() <= 4 ? String.join(", ", who) : who.size() + " hosts", socket.interfaceName());
        } catch (IOException e) {
            warn("IPv6: " + e.getMessage());
        }
    }

    private void warn(String text) {
        Instant now = clock.instant();
        synchronized (this) {
            if (Duration.between(lastWarning, now).compareTo(WARN_EVERY) < 0) {
                return;
            }
            lastWarning = now;
        }
        log.warn(text);
    }

    private static void pause() {
        try {
            Thread.sleep(RECEIVE_TIMEOUT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String address(byte[] ipv6) {
        try {
            return ((Inet6Address) InetAddress.getByAddress(ipv6)).getHostAddress();
        } catch (UnknownHostException | ClassCastException e) {
            return "?";
        }
    }

    @Override
    public void close() {
        running = false;
        sender.shutdownNow();
        try {
            reader.join(Duration.ofMillis(RECEIVE_TIMEOUT_MILLIS * 4L));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        socket.close();
        if (!reader.isAlive()) {
            socket.release();
        }
    }
}
