package dev.pivot.http;

import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.BootPlan;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import dev.pivot.loaders.IpxeScript;
import dev.pivot.loaders.Routes;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/** {@code GET /boot.ipxe[?mac=MAC]}: the per-machine iPXE script. */
final class ScriptEndpoint {

    private static final Logger log = LoggerFactory.getLogger(ScriptEndpoint.class);
    /** A Host header safe to paste into a script: a name or IPv4 address, or a bracketed IPv6, and a port. */
    private static final Pattern SAFE_HOST =
            Pattern.compile("([A-Za-z0-9.\\-]+|\\[[0-9A-Fa-f:.]+])(:[0-9]{1,5})?");

    private final BootCatalog catalog;
    private final Machines machines;
    private final Optional<String> baseUrlOverride;
    private final boolean trustHostHeader;
    /** The other live servers' base URLs (same build), named after this one in every script: none by default. */
    private volatile java.util.function.Supplier<java.util.List<String>> peers = java.util.List::of;

    ScriptEndpoint(BootCatalog catalog, Machines machines, Optional<String> baseUrlOverride,
                   boolean trustHostHeader) {
        this.catalog = catalog;
        this.machines = machines;
        this.baseUrlOverride = baseUrlOverride;
        this.trustHostHeader = trustHostHeader;
    }

    void peers(java.util.function.Supplier<java.util.List<String>> peers) {
        this.peers = peers;
    }

    /** This server's base URL first, then every other live server's, each once. */
    java.util.List<String> servers(String base) {
        return Routes.thisServerFirst(base, peers.get());
    }

    void serve(Request request, Response response) throws IOException {
        String base = baseUrl(request);
        Optional<MacAddress> given = Machines.macParameter(request);
        if (given.isEmpty()) {
            reply(request, response, IpxeScript.chainWithMac(base));
            return;
        }
        MacAddress mac = given.get();
        Optional<BootPlan> plan = catalog.planFor(mac, generationParameter(request));
        boolean head = Replies.isHead(request);
        if (plan.isEmpty()) {
            log.info("HTTP boot.ipxe for {}: no image assigned to this MAC", machines.describe(request, given));
            if (!head) {
                machines.emit(request, BootEvent.failed(mac, Step.SCRIPT, "no image assigned to this MAC"));
            }
            reply(request, response, IpxeScript.noImage(mac));
            return;
        }
        boolean menu = plan.get().showsMenu();
        // A fresh secret per script: this boot's reports and downloads count only with it (a menu's choice chains
        // to a script of its own, which carries one).
        String script = menu ? IpxeScript.menu(plan.get(), servers(base), mac)
                : IpxeScript.forMachine(plan.get().spec(), servers(base), mac, Optional.of(machines.issueSecret(mac)));
        log.info("HTTP boot.ipxe for {} with base {}{}", machines.describe(request, given), base,
                menu ? " (menu of " + plan.get().menu().size() + " generations)"
                        : plan.get().generation() > 0 ? " (generation " + plan.get().generation() + ")" : "");
        if (!head) {
            machines.emit(request, BootEvent.ok(mac, Step.SCRIPT, "boot.ipxe",
                    script.getBytes(StandardCharsets.UTF_8).length).withFile("boot.ipxe"));
        }
        reply(request, response, script);
    }

    /** {@code &generation=N}: a boot menu's choice. */
    private static OptionalInt generationParameter(Request request) {
        String text = Replies.query(request).getValue(Routes.GENERATION);
        if (text == null) {
            return OptionalInt.empty();
        }
        if (!text.matches("[1-9][0-9]{0,8}")) {
            throw new BadRequest("bad generation parameter '" + text + "': expected a generation number");
        }
        return OptionalInt.of(Integer.parseInt(text));
    }

    private static void reply(Request request, Response response, String script) throws IOException {
        // Scripts depend on the catalog, which can change between two boots of the same machine.
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        Replies.text(request, response, HttpStatus.OK_200, script);
    }

    /**
     * The server's own address on the connection (so the URLs work from the client's network), unless configured.
     * The Host header only when told to trust it: any client could otherwise steer a script's URLs elsewhere.
     */
    String baseUrl(Request request) {
        if (baseUrlOverride.isPresent()) {
            return baseUrlOverride.get();
        }
        String host = request.getHeaders().get(HttpHeader.HOST);
        if (trustHostHeader && host != null && SAFE_HOST.matcher(host.strip()).matches()) {
            return Routes.baseUrl(host.strip());
        }
        if (request.getConnectionMetaData().getLocalSocketAddress() instanceof InetSocketAddress local) {
            return Routes.baseUrl(local.getAddress(), local.getPort());
        }
        throw new IllegalStateException("request without a Host header on a non-IP connection");
    }
}
