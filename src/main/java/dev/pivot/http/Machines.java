package dev.pivot.http;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.EventSink;
import org.eclipse.jetty.server.Request;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/** Names the machine behind a request (?mac= first, else the address DHCP gave it) and emits its events. */
final class Machines {

    private final AddressBook addresses;
    private final EventSink events;

    Machines(AddressBook addresses, EventSink events) {
        this.addresses = addresses;
        this.events = events;
    }

    /** The ?mac= parameter (400 when malformed), else the AddressBook's entry for the client's address. */
    Optional<MacAddress> macOf(Request request) {
        Optional<MacAddress> given = macParameter(request);
        if (given.isPresent()) {
            return given;
        }
        return remoteAddress(request).flatMap(addresses::macOf);
    }

    static Optional<MacAddress> macParameter(Request request) {
        String text = Replies.query(request).getValue("mac");
        if (text == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(MacAddress.parse(text));
        } catch (IllegalArgumentException e) {
            throw new BadRequest("bad mac parameter: " + e.getMessage());
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
