package dev.pivot.api;

import dev.pivot.boot.Assignments;
import dev.pivot.history.BootSession;
import dev.pivot.history.EventPipeline;
import dev.pivot.history.EventLog;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.Machine;
import dev.pivot.boot.MachineRepository;
import dev.pivot.boot.ProfileCatalog;
import dev.pivot.http.ExtraRoutes;
import dev.pivot.http.Replies;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * What operators look at, mounted beside the boot routes: the REST API under {@code /api/v1/}, the live event
 * stream, Prometheus {@code /metrics}, and the web page at {@code /}. Documented in docs/api.md.
 */
public final class ApiRoutes implements ExtraRoutes {

    private static final Logger log = LoggerFactory.getLogger(ApiRoutes.class);
    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 1000;

    private final EventLog events;
    private final MachineRepository machines;
    private final BootMetrics metrics;
    private final EventStream stream;
    private final WebAssets web = new WebAssets();
    private final Optional<ProfileCatalog> catalog;
    private final Optional<Assignments> assignments;
    private volatile ApiAccess access;
    private volatile Optional<ArtifactCollector> collector = Optional.empty();
    private volatile int maxBodyBytes = 64 * 1024;
    private volatile dev.pivot.boot.Refusals refusals = new dev.pivot.boot.Refusals();

    private ApiRoutes(EventLog events, MachineRepository machines, BootMetrics metrics, EventStream stream,
                      Optional<ProfileCatalog> catalog, Optional<Assignments> assignments, ApiAccess access) {
        this.access = access;
        this.events = events;
        this.machines = machines;
        this.metrics = metrics;
        this.stream = stream;
        this.catalog = catalog;
        this.assignments = assignments;
    }

    /** As below, without profiles: the assignment routes answer 404. */
    public static ApiRoutes create(EventPipeline pipeline, EventLog events, MachineRepository machines) {
        return create(pipeline, events, machines, Optional.empty(), Optional.empty());
    }

    /** With profiles: machines show the profile they boot, and operators assign profiles. */
    public static ApiRoutes create(EventPipeline pipeline, EventLog events, MachineRepository machines,
                                   ProfileCatalog catalog, Assignments assignments) {
        pipeline.onEvent((session, event) -> catalog.onEvent(event,
                session.events().isEmpty() ? event.at() : session.events().getFirst().at()));
        return create(pipeline, events, machines, Optional.of(catalog), Optional.of(assignments));
    }

    /**
     * Subscribes metrics and the event stream to the pipeline, whose events are recorded in {@code events}; the
     * pipeline's own health (events lost, backlog) becomes metrics too.
     */
    private static ApiRoutes create(EventPipeline pipeline, EventLog events, MachineRepository machines,
                                    Optional<ProfileCatalog> catalog, Optional<Assignments> assignments) {
        BootMetrics metrics = new BootMetrics();
        EventStream stream = new EventStream();
        pipeline.onEvent((session, e) -> {
            metrics.record(session, e);
            stream.publish(session, e);
        });
        metrics.gauge("pivot.events.lost", "Boot events not recorded: the store failed or fell behind",
                pipeline::lost);
        metrics.gauge("pivot.events.backlog", "Boot events waiting to be written to the store", pipeline::backlog);
        metrics.gauge("pivot.events.store.failing", "1 while the store refuses writes",
                () -> pipeline.storeFailing() ? 1 : 0);
        catalog.ifPresent(c -> metrics.gauge("pivot.machines.behind",
                "Machines running another generation of their profile than their next boot gets (reboot needed)",
                c::machinesBehind));
        return new ApiRoutes(events, machines, metrics, stream, catalog, assignments, OPEN_READS_NO_CHANGES);
    }

    /** A metric read when scraped, from a server that keeps its own counts (NBD connections, bytes read). */
    public ApiRoutes gauge(String name, String description, java.util.function.Supplier<Number> value) {
        metrics.gauge(name, description, value);
        return this;
    }

    /** Until {@link #requireToken} is called: reads open, and no token (none was made) allows a change. */
    private static final ApiAccess OPEN_READS_NO_CHANGES =
            new ApiAccess(java.util.HexFormat.of().formatHex(new java.security.SecureRandom().generateSeed(24)), false);

    /**
     * Bounds what one request may make the API hold: a body's size (checked before reading it), live event
     * streams at once; refusals are counted in {@code counted} and exported as {@code pivot_refused_total}.
     */
    public ApiRoutes limit(int bodyBytes, int eventStreams, dev.pivot.boot.Refusals counted) {
        this.maxBodyBytes = bodyBytes;
        this.refusals = counted;
        stream.limit(eventStreams, counted);
        metrics.refusals(counted);
        return this;
    }

    /** Changes need this token from now on (and reads too, if it says so). */
    public ApiRoutes requireToken(ApiAccess access) {
        this.access = access;
        return this;
    }

    /**
     * What {@code GET /healthz} says, for load balancers and monitoring: whether the store answers, this server's
     * name and the servers alive beside it (each a name and its base URL). With {@code --root-transport nbd}, also
     * this server's NBD port: a machine's stage 1 that moves on to this server attaches its root image there.
     */
    public record Health(boolean storeUp, String server, List<Peer> servers, java.util.OptionalInt nbdPort) {
        public record Peer(String name, String url) {
        }
    }

    private volatile java.util.function.Supplier<Health> health = () -> new Health(true, "pivot", List.of(),
            java.util.OptionalInt.empty());

    /** Where {@code /healthz} learns the store's state and the servers alive. */
    public ApiRoutes health(java.util.function.Supplier<Health> source) {
        this.health = source;
        return this;
    }

    /** No token: a load balancer's probe has none, and the answer names nothing a client could not learn. */
    private void healthz(Request request, Response response) throws IOException {
        Health h = health.get();
        var body = new java.util.LinkedHashMap<String, Object>();
        body.put("status", h.storeUp() ? "up" : "store down");
        body.put("server", h.server());
        body.put("store", h.storeUp() ? "up" : "down");
        body.put("servers", h.servers());
        h.nbdPort().ifPresent(port -> body.put("nbdPort", port));
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        HttpReplies.json(request, response, h.storeUp() ? HttpStatus.OK_200 : HttpStatus.SERVICE_UNAVAILABLE_503, body);
    }

    @Override
    public boolean serve(Request request, Response response, String path) throws IOException {
        if (path.equals("/healthz") && (HttpMethod.GET.is(request.getMethod())
                || HttpMethod.HEAD.is(request.getMethod()))) {
            healthz(request, response);
            return true;
        }
        boolean api = path.startsWith("/api/");
        if (!api && !path.equals("/metrics") && !web.has(path)) {
            return false;
        }
        boolean change = !HttpMethod.GET.is(request.getMethod()) && !HttpMethod.HEAD.is(request.getMethod());
        if ((api || path.equals("/metrics")) && !access.allows(request, change)) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"pivot\"");
            HttpReplies.error(request, response, HttpStatus.UNAUTHORIZED_401, (change ? "changes" : "reads")
                    + " need the API token (Authorization: Bearer TOKEN; pivot serve keeps it in STATE/api-token)");
            return true;
        }
        try {
            if (path.startsWith("/api/v1/machines/") && path.contains("/labels/")) {
                labels(request, response, path);
                return true;
            }
            if (path.startsWith("/api/v1/machines/") && path.endsWith("/assignment")) {
                assignment(request, response, path);
                return true;
            }
            if (path.equals("/api/v1/artifacts/gc")) {
                collectArtifacts(request, response);
                return true;
            }
            if (path.startsWith("/api/v1/profiles/") && path.endsWith("/rollback")) {
                rollback(request, response, path);
                return true;
            }
            if (!HttpMethod.GET.is(request.getMethod()) && !HttpMethod.HEAD.is(request.getMethod())) {
                response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
                HttpReplies.error(request, response, HttpStatus.METHOD_NOT_ALLOWED_405,
                        "method " + request.getMethod() + " not allowed on " + path + " (GET, HEAD)");
                return true;
            }
            route(request, response, path);
        } catch (IllegalArgumentException e) {
            log.info("HTTP 400 {} {}: {}", request.getMethod(), path, e.getMessage());
            HttpReplies.error(request, response, HttpStatus.BAD_REQUEST_400, e.getMessage());
        } catch (TooLarge e) {
            // The rest of the body is not read: the connection closes after the answer.
            response.getHeaders().put(HttpHeader.CONNECTION, "close");
            HttpReplies.error(request, response, HttpStatus.PAYLOAD_TOO_LARGE_413, e.getMessage());
        }
        return true;
    }

    private void route(Request request, Response response, String path) throws IOException {
        if (path.equals("/metrics")) {
            HttpReplies.bytes(request, response, HttpStatus.OK_200, "text/plain; version=0.0.4; charset=utf-8",
                    metrics.scrape().getBytes(StandardCharsets.UTF_8));
        } else if (path.equals("/api/v1/machines")) {
            // Paged: a LAN full of made-up MACs must not make one answer (and its JSON in memory) unbounded.
            Fields query = Replies.query(request);
            int limit = bounded("limit", query.getValue("limit"), DEFAULT_MACHINES, 1, MAX_MACHINES);
            int offset = bounded("offset", query.getValue("offset"), 0, 0, Integer.MAX_VALUE);
            var running = catalog.map(ProfileCatalog::running).orElse(java.util.Map.of());
            List<Views.MachineView> page = machines.machines(offset, limit).stream().map(m -> view(m, running))
                    .toList();
            if (page.size() == limit) {
                response.getHeaders().put("X-Next-Offset", Long.toString((long) offset + limit));
            }
            HttpReplies.json(request, response, HttpStatus.OK_200, page);
        } else if (path.startsWith("/api/v1/machines/")) {
            MacAddress mac = mac(path.substring("/api/v1/machines/".length()));
            Optional<Machine> m = machines.machine(mac);
            if (m.isEmpty()) {
                HttpReplies.error(request, response, HttpStatus.NOT_FOUND_404, "no machine " + mac + " seen");
            } else {
                HttpReplies.json(request, response, HttpStatus.OK_200, view(m.get()));
            }
        } else if (path.equals("/api/v1/sessions")) {
            Fields query = Replies.query(request);
            Optional<MacAddress> mac = Optional.ofNullable(query.getValue("mac")).map(ApiRoutes::mac);
            int limit = limit(query.getValue("limit"));
            // Paged like machines: older sessions page by page, never all of them in one answer.
            int offset = bounded("offset", query.getValue("offset"), 0, 0, Integer.MAX_VALUE);
            List<Views.SessionView> page = events.sessions(mac, offset, limit).stream().map(Views::session).toList();
            if (page.size() == limit) {
                response.getHeaders().put("X-Next-Offset", Long.toString((long) offset + limit));
            }
            HttpReplies.json(request, response, HttpStatus.OK_200, page);
        } else if (path.startsWith("/api/v1/sessions/")) {
            String id = path.substring("/api/v1/sessions/".length());
            if (!id.matches("\\d{1,18}")) {
                throw new IllegalArgumentException("session id '" + id + "': not a number");
            }
            Optional<BootSession> s = events.session(Long.parseLong(id));
            if (s.isEmpty()) {
                HttpReplies.error(request, response, HttpStatus.NOT_FOUND_404, "no session " + id);
            } else {
                HttpReplies.json(request, response, HttpStatus.OK_200, Views.session(s.get()));
            }
        } else if (path.equals("/api/v1/profiles")) {
            HttpReplies.json(request, response, HttpStatus.OK_200, java.util.Map.of("profiles",
                    catalog.map(c -> new java.util.TreeSet<>(c.profiles())).orElse(new java.util.TreeSet<>())));
        } else if (path.equals("/api/v1/generations")) {
            generations(request, response);
        } else if (path.equals("/api/v1/events")) {
            stream.serve(request, response);
        } else if (web.has(path)) {
            web.serve(request, response, path);
        } else {
            HttpReplies.error(request, response, HttpStatus.NOT_FOUND_404, "no API route " + path);
        }
    }

    /** {@code GET /api/v1/generations[?profile=P]}: each profile's generations, newest first. */
    private void generations(Request request, Response response) throws IOException {
        if (catalog.isEmpty()) {
            HttpReplies.json(request, response, HttpStatus.OK_200, List.of());
            return;
        }
        String only = Replies.query(request).getValue("profile");
        if (only != null && !catalog.get().has(only)) {
            HttpReplies.error(request, response, HttpStatus.NOT_FOUND_404, "unknown profile '" + only + "' (known: "
                    + String.join(", ", new java.util.TreeSet<>(catalog.get().profiles())) + ")");
            return;
        }
        var running = catalog.get().running().values();
        HttpReplies.json(request, response, HttpStatus.OK_200, new java.util.TreeMap<>(catalog.get().generations().all())
                .values().stream().filter(pg -> only == null || pg.profile().equals(only))
                .map(pg -> Views.generations(pg, running)).toList());
    }

    /**
     * {@code POST /api/v1/profiles/{profile}/rollback} {"to": N} (or {} for the one before the default): the
     * default generation for every machine of the profile, from their next boot.
     */
    private void rollback(Request request, Response response, String path) throws IOException {
        String profile = path.substring("/api/v1/profiles/".length(), path.length() - "/rollback".length());
        if (!HttpMethod.POST.is(request.getMethod())) {
            response.getHeaders().put(HttpHeader.ALLOW, "POST");
            HttpReplies.error(request, response, HttpStatus.METHOD_NOT_ALLOWED_405,
                    "method " + request.getMethod() + " not allowed on a rollback (POST)");
            return;
        }
        if (catalog.isEmpty() || !catalog.get().has(profile)) {
            HttpReplies.error(request, response, HttpStatus.NOT_FOUND_404, "unknown profile '" + profile + "'");
            return;
        }
        String text = Content.Source.asString(request, StandardCharsets.UTF_8);
        java.util.OptionalInt to = java.util.OptionalInt.empty();
        if (!text.isBlank()) {
            com.fasterxml.jackson.databind.JsonNode body;
            try {
                body = HttpReplies.JSON.readTree(text);
            } catch (IOException e) {
                throw new IllegalArgumentException("rollback body: not JSON (expected {\"to\": N} or {})");
            }
            if (body != null && body.has("to")) {
                if (!body.path("to").canConvertToInt() || !body.path("to").isIntegralNumber()
                        || body.path("to").asInt() < 1) {
                    throw new IllegalArgumentException("rollback body: \"to\" must be a generation number");
                }
                to = java.util.OptionalInt.of(body.path("to").asInt());
            }
        }
        var after = catalog.get().generations().rollback(profile, to);
        log.info("profile {} rolled back: generation {} is the default", profile, after.defaultGeneration().number());
        HttpReplies.json(request, response, HttpStatus.OK_200,
                Views.generations(after, catalog.get().running().values()));
    }

    /** {@code PUT /api/v1/machines/{mac}/labels/{name}} with the value as body; DELETE removes it. */
    private void labels(Request request, Response response, String path) throws IOException {
        String rest = path.substring("/api/v1/machines/".length());
        int cut = rest.indexOf("/labels/");
        MacAddress mac = mac(rest.substring(0, cut));
        String name = rest.substring(cut + "/labels/".length());
        String value;
        if (HttpMethod.PUT.is(request.getMethod())) {
            value = body(request).strip();
            if (value.isEmpty()) {
                throw new IllegalArgumentException("label " + name + ": empty value (use DELETE to remove a label)");
            }
        } else if (HttpMethod.DELETE.is(request.getMethod())) {
            value = "";
        } else {
            response.getHeaders().put(HttpHeader.ALLOW, "PUT, DELETE");
            HttpReplies.error(request, response, HttpStatus.METHOD_NOT_ALLOWED_405,
                    "method " + request.getMethod() + " not allowed on labels (PUT, DELETE)");
            return;
        }
        if (!machines.label(mac, name, value)) {
            HttpReplies.error(request, response, HttpStatus.NOT_FOUND_404, "no machine " + mac + " seen");
            return;
        }
        HttpReplies.json(request, response, HttpStatus.OK_200, view(machines.machine(mac).orElseThrow()));
    }

    /** {@code PUT /api/v1/machines/{mac}/assignment} {"profile": P, "once": B}; DELETE removes it. */
    /** POST /api/v1/artifacts/gc?older-than-days=N: removes what nothing uses; answers what it removed. */
    private void collectArtifacts(Request request, Response response) throws IOException {
        if (!HttpMethod.POST.is(request.getMethod())) {
            response.getHeaders().put(HttpHeader.ALLOW, "POST");
            HttpReplies.error(request, response, HttpStatus.METHOD_NOT_ALLOWED_405,
                    "method " + request.getMethod() + " not allowed on /api/v1/artifacts/gc (POST)");
            return;
        }
        if (collector.isEmpty()) {
            HttpReplies.error(request, response, HttpStatus.NOT_FOUND_404, "this server keeps no artifacts");
            return;
        }
        String days = Replies.query(request).getValue("older-than-days");
        int olderThanDays;
        try {
            olderThanDays = days == null ? DEFAULT_GC_DAYS : Integer.parseInt(days);
        } catch (NumberFormatException e) {
            olderThanDays = -1;
        }
        if (olderThanDays < 0) {
            throw new IllegalArgumentException("older-than-days " + days + ": expected a whole number of days, 0 or more");
        }
        ArtifactCollector.Result r = collector.get().collect(java.time.Duration.ofDays(olderThanDays));
        log.info("artifacts: removed {} unused ({} bytes) not stored again for {} days, kept {}", r.removed(),
                r.bytes(), olderThanDays, r.kept());
        HttpReplies.json(request, response, HttpStatus.OK_200, java.util.Map.of("removed", r.removed(),
                "bytes", r.bytes(), "kept", r.kept(), "olderThanDays", olderThanDays));
    }

    /** `pivot gc` without --older-than: what a machine that booted last week may still be running stays. */
    static final int DEFAULT_GC_DAYS = 7;

    /** Metrics of the running server that no event carries (downloads by no known machine). */
    public BootMetrics metrics() {
        return metrics;
    }

    /** The server's artifact collector, for {@code /api/v1/artifacts/gc}. */
    public ApiRoutes collectArtifactsWith(ArtifactCollector collector) {
        this.collector = Optional.of(collector);
        return this;
    }

    private void assignment(Request request, Response response, String path) throws IOException {
        MacAddress mac = mac(path.substring("/api/v1/machines/".length(), path.length() - "/assignment".length()));
        if (catalog.isEmpty() || assignments.isEmpty()) {
            HttpReplies.error(request, response, HttpStatus.NOT_FOUND_404, "this server has no profiles to assign");
            return;
        }
        if (HttpMethod.DELETE.is(request.getMethod())) {
            boolean had = assignments.get().unassign(mac);
            HttpReplies.json(request, response, HttpStatus.OK_200, java.util.Map.of("mac", mac.toString(),
                    "removed", had));
            return;
        }
        if (!HttpMethod.PUT.is(request.getMethod())) {
            response.getHeaders().put(HttpHeader.ALLOW, "PUT, DELETE");
            HttpReplies.error(request, response, HttpStatus.METHOD_NOT_ALLOWED_405,
                    "method " + request.getMethod() + " not allowed on an assignment (PUT, DELETE)");
            return;
        }
        com.fasterxml.jackson.databind.JsonNode body;
        try {
            body = HttpReplies.JSON.readTree(body(request));
        } catch (IOException e) {
            throw new IllegalArgumentException("assignment body: not JSON (expected {\"profile\": NAME, \"once\": false})");
        }
        String profile = body == null ? null : body.path("profile").asText(null);
        if (profile == null || profile.isBlank()) {
            throw new IllegalArgumentException("assignment body: no profile (expected {\"profile\": NAME, \"once\": false})");
        }
        if (!catalog.get().has(profile)) {
            throw new IllegalArgumentException("unknown profile '" + profile + "' (known: "
                    + String.join(", ", new java.util.TreeSet<>(catalog.get().profiles())) + ")");
        }
        java.util.OptionalInt generation = java.util.OptionalInt.empty();
        if (body.hasNonNull("generation")) {
            com.fasterxml.jackson.databind.JsonNode g = body.path("generation");
            if (!g.isIntegralNumber() || !g.canConvertToInt() || g.asInt() < 1) {
                throw new IllegalArgumentException("assignment body: \"generation\" must be a generation number");
            }
            var pg = catalog.get().generations().of(profile).orElseThrow();
            if (pg.number(g.asInt()).isEmpty()) {
                throw new IllegalArgumentException("profile " + profile + " has no generation " + g.asInt()
                        + " (has " + String.join(", ", pg.newestFirst().stream()
                        .map(x -> Integer.toString(x.number())).toList()) + ")");
            }
            generation = java.util.OptionalInt.of(g.asInt());
        }
        Assignments.Assignment a = new Assignments.Assignment(mac, profile, body.path("once").asBoolean(false),
                java.time.Instant.now(), generation);
        assignments.get().assign(a);
        log.info("assigned {} to profile {}{}{}", mac, profile,
                generation.isPresent() ? "@" + generation.getAsInt() : "", a.once() ? " (once)" : "");
        HttpReplies.json(request, response, HttpStatus.OK_200, new Views.AssignmentView(mac.toString(), profile,
                a.once(), Views.iso(a.at()), generation.isPresent() ? generation.getAsInt() : null));
    }

    /** Thrown when a body is larger than the API reads; answered 413. */
    static final class TooLarge extends RuntimeException {
        TooLarge(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The request body as text, at most {@link #maxBodyBytes}: a declared Content-Length over it is refused before
     * a byte is read, and a chunked body is read only until it passes the limit.
     */
    private String body(Request request) throws IOException {
        long declared = request.getLength();
        String source = Request.getRemoteAddr(request);
        if (declared > maxBodyBytes) {
            refusals.refuse("api_body_size", source, "body of " + declared + " bytes");
            throw new TooLarge("request body of " + declared + " bytes is over the limit of " + maxBodyBytes);
        }
        try (java.io.InputStream in = Content.Source.asInputStream(request)) {
            byte[] bytes = in.readNBytes(maxBodyBytes + 1);
            if (bytes.length > maxBodyBytes) {
                refusals.refuse("api_body_size", source, "chunked body over " + maxBodyBytes + " bytes");
                throw new TooLarge("request body is over the limit of " + maxBodyBytes + " bytes");
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    private Views.MachineView view(Machine m) {
        return view(m, catalog.map(ProfileCatalog::running).orElse(java.util.Map.of()));
    }

    private Views.MachineView view(Machine m, java.util.Map<MacAddress, dev.pivot.boot.GenerationStore.Running> running) {
        return Views.machine(m, events.sessions(Optional.of(m.mac()), 1).stream().findFirst(),
                catalog.flatMap(c -> c.choice(m.mac())).map(c -> new Views.ProfileChoice(c.profile(), c.because())),
                catalog.flatMap(c -> c.status(m.mac(), Optional.ofNullable(running.get(m.mac())))));
    }

    private static MacAddress mac(String text) {
        try {
            return MacAddress.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad mac '" + text + "': " + e.getMessage());
        }
    }

    /** Machines in one answer of /api/v1/machines unless ?limit= says fewer; X-Next-Offset names the next page. */
    static final int DEFAULT_MACHINES = 5000;
    static final int MAX_MACHINES = 5000;

    static int bounded(String name, String text, int absent, int min, int max) {
        if (text == null) {
            return absent;
        }
        if (!text.matches("\\d{1,10}") || Long.parseLong(text) < min || Long.parseLong(text) > max) {
            throw new IllegalArgumentException("bad " + name + " '" + text + "': expected " + min + " to " + max);
        }
        return Integer.parseInt(text);
    }

    static int limit(String text) {
        if (text == null) {
            return DEFAULT_LIMIT;
        }
        if (!text.matches("\\d{1,9}") || Integer.parseInt(text) < 1 || Integer.parseInt(text) > MAX_LIMIT) {
            throw new IllegalArgumentException("bad limit '" + text + "': expected 1 to " + MAX_LIMIT);
        }
        return Integer.parseInt(text);
    }


    @Override
    public void close() {
        stream.close();
        metrics.close();
    }
}
