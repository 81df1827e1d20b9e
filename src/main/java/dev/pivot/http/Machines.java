package dev.pivot.http;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.EventSink;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

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
