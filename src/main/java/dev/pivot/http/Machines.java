package dev.pivot.http;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.BootSecrets;
import dev.pivot.boot.Refusals;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.EventSink;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Names the machine behind a request (?mac= with its per-boot secret first, else the address DHCP gave it) and
 * emits its events. A ?mac= without the secret names nobody: anyone on the LAN can type a MAC.
 */
final class Machines {

    /** The query parameter carrying the per-boot secret on every URL of a machine's script. */
    static final String TOKEN = "token";

    private final AddressBook addresses;
    private final EventSink events;
    private final BootSecrets secrets;
    private final Refusals refusals;

    Machines(AddressBook addresses, EventSink events, BootSecrets secrets, Refusals refusals) {
        this.addresses = addresses;
        this.events = events;
        this.secrets = secrets;
        this.refusals = refusals;
    }

    /**
     * The machine a request speaks for: ?mac= when it carries that machine's per-boot secret (or comes from the
     * address DHCP gave that machine), else the AddressBook's entry for the client's address.
     */
    Optional<MacAddress> macOf(Request request) {
        Optional<MacAddress> given = macParameter(request);
        if (given.isPresent() && authentic(request, given.get())) {
            return given;
        }
        return remoteAddress(request).flatMap(addresses::macOf);
    }

    /** Whether the request carries {@code mac}'s per-boot secret, or comes from the address that machine leased. */
    boolean authentic(Request request, MacAddress mac) {
        String token = Replies.query(request).getValue(TOKEN);
        if (token != null && secrets.verify(mac, token)) {
            return true;
        }
        return remoteAddress(request).flatMap(addresses::macOf).map(mac::equals).orElse(false);
    }

    /** A fresh per-boot secret for {@code mac}'s script. */
    String issueSecret(MacAddress mac) {
        return secrets.issue(mac);
    }

    Refusals refusals() {
        return refusals;
    }

    static Optional<MacAddress> macParameter(Request request) {
        return macParameter(Replies.query(request));
    }

    static Optional<MacAddress> macParameter(Fields query) {
        String text = query.getValue("mac");
        if (text == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(MacAddress.parse(text));
        } catch (IllegalArgumentException e) {
            // The message quotes the parameter: one printable line, whatever the client sent (Jazzer's find).
            throw new BadRequest("bad mac parameter: " + ReportEndpoint.printable(e.getMessage()));
        }
    }


    static Optional<InetAddress> remoteAddress(Request request) {
        return request.getConnectionMetaData().getRemoteSocketAddress() instanceof InetSocketAddress isa
                ? Optional.ofNullable(isa.getAddress()) : Optional.empty();
    }

    String describe(Request request, Optional<MacAddress> mac) {
        String address = Request.getRemoteAddr(request);
        return mac.map(m -> m + " (" + address + ")").orElse(address);
    }

    /** Hands the event on with the client's address; never waits for the event log. */
    void emit(Request request, BootEvent event) {
        events.emit(withAddress(request, event));
    }

    /** As {@link #emit}, and completes once the event is durable (a stage-1 report's acknowledgement). */
    CompletableFuture<Void> emitDurably(Request request, BootEvent event) {
        return events.emitDurably(withAddress(request, event));
    }

    private static BootEvent withAddress(Request request, BootEvent event) {
        return remoteAddress(request).map(a -> event.withAddress(a.getHostAddress())).orElse(event);
    }
}
