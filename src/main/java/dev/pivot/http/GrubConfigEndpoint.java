package dev.pivot.http;

import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.BootPlan;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Step;
import dev.pivot.loaders.GrubConfig;
import dev.pivot.loaders.Routes;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * {@code GET /grub/grub.cfg} (the same for every machine) and {@code GET /grub/machine/<mac>.cfg}: GRUB's
 * counterpart of {@link ScriptEndpoint}. The per-machine config is the boot's script step, with its own secret.
 */
final class GrubConfigEndpoint {

    private static final Logger log = LoggerFactory.getLogger(GrubConfigEndpoint.class);

    private final BootCatalog catalog;
    private final Machines machines;
    private final ScriptEndpoint scripts;

    GrubConfigEndpoint(BootCatalog catalog, Machines machines, ScriptEndpoint scripts) {
        this.catalog = catalog;
        this.machines = machines;
        this.scripts = scripts;
    }

    /** True when {@code path} is one of GRUB's (the rest of /grub/ is GRUB asking for modules it has built in). */
    static boolean handles(String path) {
        return path.startsWith("/grub/");
    }

    void serve(Request request, Response response, String path) throws IOException {
        String base = scripts.baseUrl(request);
        if (path.equals(Routes.GRUB_BOOTSTRAP)) {
            reply(request, response, GrubConfig.bootstrap());
            return;
        }
        Optional<MacAddress> asked = GrubConfig.machine(path);
        if (asked.isEmpty()) {
            // GRUB looks for x86_64-efi/*.lst and locale files under its prefix first; none are needed.
            log.debug("HTTP 404 {} (GRUB)", path);
            Replies.text(request, response, HttpStatus.NOT_FOUND_404, "not found: " + path + "\n");
            return;
        }
        MacAddress mac = asked.get();
        boolean head = Replies.isHead(request);
        Optional<BootPlan> plan = catalog.planFor(mac, java.util.OptionalInt.empty());
        if (plan.isEmpty()) {
            log.info("HTTP grub.cfg for {}: no image assigned to this MAC", machines.describe(request, asked));
            if (!head) {
                machines.emit(request, BootEvent.failed(mac, Step.SCRIPT, "no image assigned to this MAC"));
            }
            reply(request, response, GrubConfig.noImage(mac));
            return;
        }
        // GRUB gets the plan's default generation; its menu is iPXE's for now.
        String config = GrubConfig.overHttp(plan.get().spec(), scripts.servers(base), mac,
                Optional.of(machines.issueSecret(mac)));
        log.info("HTTP grub.cfg for {} with base {}", machines.describe(request, asked), base);
        if (!head) {
            machines.emit(request, BootEvent.ok(mac, Step.SCRIPT, "grub.cfg",
                    config.getBytes(StandardCharsets.UTF_8).length).withFile("grub.cfg"));
        }
        reply(request, response, config);
    }

    private static void reply(Request request, Response response, String text) throws IOException {
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        Replies.text(request, response, HttpStatus.OK_200, text);
    }
}
