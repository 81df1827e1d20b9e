package dev.pivot.http;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.MacAddress;
import dev.pivot.events.BootEvent;
import dev.pivot.events.EventSink;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;

/** Names the machine behind a request (?mac= first, else the address DHCP gave it) and emits its events. */
final class Machines {

    private static final Logger log = LoggerFactory.getLogger(Machines.class);

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
        String text = query(request).getValue("mac");
        if (text == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(MacAddress.parse(text));
        } catch (IllegalArgumentException e) {
            throw new BadRequest("bad mac parameter: " + e.getMessage());
        }
    }

    static Fields query(Request request) {
        try {
            return Request.extractQueryParameters(request);
        } catch (RuntimeException e) {
            throw new BadRequest("bad query string '" + ReportEndpoint.printable(
                    String.valueOf(request.getHttpURI().getQuery())) + "' (percent-encoding or UTF-8)");
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

    /**
     * For stage-1 reports, whose 200 is the acknowledgement: a sink that cannot record the event (the database
     * is down) fails the request with 500 rather than acknowledging an event that was not kept.
     */
    void emitOrFail(BootEvent event) {
        events.emit(event);
    }

    /** A sink that throws must not turn a served file into a failed request. */
    void emit(BootEvent event) {
        try {
            events.emit(event);
        } catch (RuntimeException e) {
            log.warn("event sink failed on {} {}: {}", event.mac(), event.step(), e.toString());
        }
    }
}
