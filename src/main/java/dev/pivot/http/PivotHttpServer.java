package dev.pivot.http;

import dev.pivot.boot.AddressBook;
import dev.pivot.boot.ArtifactSource;
import dev.pivot.boot.BootCatalog;
import dev.pivot.boot.EventSink;
import dev.pivot.boot.Quota;
import dev.pivot.boot.Refusals;
import dev.pivot.loaders.Routes;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.concurrent.Executors;

/**
 * Pivot's HTTP server on Jetty 12 core: iPXE scripts, GRUB configs, content-addressed artifacts, stage-1 reports and the
 * distro's iPXE binaries. Each request runs on its own virtual thread and writes blocking, which keeps the code
 * straight-line while thousands of slow downloads cost no platform threads.
 */
public final class PivotHttpServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PivotHttpServer.class);
    /**
     * Connections the kernel queues before Jetty accepts them. The JDK's default backlog is 50: when a rack powers
     * on, hundreds of machines connect at once, the SYNs past 50 are dropped and each client retries after 1, 3,
     * 7 s... bench/boot-storm.sh (500 machines) measured the script p99 at 11.7 s with 50 and 2.2 s with 1024, with
     * no listen-queue overflow left. nginx uses 511 on Linux; the kernel caps the value at net.core.somaxconn.
     */
    static final int ACCEPT_QUEUE = 1024;

    private final HttpConfig config;
    private final Server server;
    private final ServerConnector connector;
    private final ExtraRoutes extra;
    private final BodyBytes bodyBytes = new BodyBytes();
    private final ArtifactEndpoint artifactEndpoint;
    private final HttpGuard guard;
    private final ConnectionGuard connections;

    private final ScriptEndpoint scripts;

    public PivotHttpServer(HttpConfig config, BootCatalog catalog, ArtifactSource artifacts, AddressBook addresses,
                           EventSink events) {
        this(config, catalog, artifacts, addresses, events, ExtraRoutes.NONE);
    }

    /** @param extra the API, metrics and web page, tried before the boot routes */
    public PivotHttpServer(HttpConfig config, BootCatalog catalog, ArtifactSource artifacts, AddressBook addresses,
                           EventSink events, ExtraRoutes extra) {
        this(config, catalog, artifacts, addresses, events, extra, true, HttpGuard.defaults());
    }

    /** @param guard limits, per-boot secrets and where refusals are counted */
    public PivotHttpServer(HttpConfig config, BootCatalog catalog, ArtifactSource artifacts, AddressBook addresses,
                           EventSink events, ExtraRoutes extra, HttpGuard guard) {
        this(config, catalog, artifacts, addresses, events, extra, true, guard);
    }

    /** @param sendfile false: Jetty's plain endpoints, so file bodies take the copying path (for tests) */
    PivotHttpServer(HttpConfig config, BootCatalog catalog, ArtifactSource artifacts, AddressBook addresses,
                    EventSink events, ExtraRoutes extra, boolean sendfile) {
        this(config, catalog, artifacts, addresses, events, extra, sendfile, HttpGuard.defaults());
    }

    private PivotHttpServer(HttpConfig config, BootCatalog catalog, ArtifactSource artifacts, AddressBook addresses,
                            EventSink events, ExtraRoutes extra, boolean sendfile, HttpGuard guard) {
        this.config = config;
        this.extra = extra;
        this.guard = guard;
        // Selectors stay on the few platform threads; every blocking handler call gets a virtual thread. The
        // platform pool is bounded well below Jetty's default of 200: under a flood of short requests it grew to
        // about a hundred idle threads (stacks and malloc arenas each), and what runs on it never blocks.
        int cpus = Runtime.getRuntime().availableProcessors();
        QueuedThreadPool threads = new QueuedThreadPool(Math.max(16, 2 * cpus + 8), Math.min(4, cpus + 1));
        threads.setName("pivot-http");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server = new Server(threads);

        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        // shim loaded by HTTP asks for the loader beside it as "/ipxe//grubx64.efi" (its "\\grubx64.efi" with the
        // separator turned into a slash), which Jetty refuses by default before any handler sees it: let it through
        // to the router, which takes it only there (IpxeFileEndpoint) and refuses an empty segment elsewhere.
        http.setUriCompliance(UriCompliance.DEFAULT.with("shim's empty segment",
                UriCompliance.Violation.AMBIGUOUS_EMPTY_SEGMENT));
        connector = sendfile ? new SendfileConnector(server, new HttpConnectionFactory(http))
                : new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(config.bind().getHostAddress());
        connector.setPort(config.port());
        // Also the header read timeout: a connection that sends nothing, or its headers too slowly, is closed.
        connector.setIdleTimeout(guard.idleTimeout().toMillis());
        connector.setAcceptQueueSize(ACCEPT_QUEUE);
        connections = new ConnectionGuard(guard.connections(), guard.connectionsPerIp(), guard.refusals());
        connector.addBean(connections);
        server.addConnector(connector);

        ErrorHandler errors = new ErrorHandler();
        errors.setShowStacks(false);
        server.setErrorHandler(errors);

        Machines machines = new Machines(addresses, events, guard.secrets(), guard.refusals());
        artifactEndpoint = new ArtifactEndpoint(artifacts, catalog, machines, server.getByteBufferPool(), bodyBytes);
        scripts = new ScriptEndpoint(catalog, machines, config.baseUrlOverride(), guard.trustHostHeader());
        server.setHandler(new Router(extra, scripts, new GrubConfigEndpoint(catalog, machines, scripts),
                artifactEndpoint,
                new ReportEndpoint(machines),
                new IpxeFileEndpoint(config.ipxeDir(), config.loaderDirs(), server.getByteBufferPool(), bodyBytes),
                new Quota<>(guard.streams(), guard.streamsPerIp()), guard.refusals()));
    }

    /**
     * The other live servers' base URLs, asked at every script: each artifact of an iPXE script falls back to them
     * in this order, and stage 1 is told them, so a boot survives the loss of this server.
     */
    public void peers(java.util.function.Supplier<java.util.List<String>> peers) {
        scripts.peers(peers);
    }

    /** Connections open now. */
    public int openConnections() {
        return connections.open();
    }

    /** Artifact downloads no machine could be named for (no ?mac=, an address no lease names) since start. */
    public long anonymousDownloads() {
        return artifactEndpoint.anonymousDownloads();
    }

    /** Their body bytes since start. */
    public long anonymousDownloadBytes() {
        return artifactEndpoint.anonymousBytes();
    }

    /** File body bytes sent zero-copy ({@code sendfile}) since start. */
    public long zeroCopyBodyBytes() {
        return bodyBytes.zeroCopy();
    }

    /** File body bytes sent by reading them into a buffer first since start. */
    public long copiedBodyBytes() {
        return bodyBytes.copied();
    }

    /** Plain TCP connections whose endpoint can send files with {@code sendfile} ({@link SendfileEndPoint}). */
    private static final class SendfileConnector extends ServerConnector {
        SendfileConnector(Server server, HttpConnectionFactory factory) {
            super(server, factory);
        }

        @Override
        protected SocketChannelEndPoint newEndPoint(SocketChannel channel, ManagedSelector selector,
                                                    SelectionKey key) {
            SendfileEndPoint endPoint = new SendfileEndPoint(channel, selector, key, getScheduler());
            endPoint.setIdleTimeout(getIdleTimeout());
            return endPoint;
        }
    }

    /** Starts listening; a bind failure names the address and port ("cannot listen on 0.0.0.0:80: ..."). */
    public void start() throws IOException {
        try {
            server.start();
        } catch (Exception e) {
            stopQuietly();
            throw new IOException("cannot listen on " + hostPort() + ": " + rootReason(e), e);
        }
        log.info("HTTP listening on {}", hostPort().replaceFirst(":0$", ":" + port()));
    }

    /** The port actually bound (useful with port 0); -1 before start. */
    public int port() {
        return connector.getLocalPort();
    }

    @Override
    public void close() {
        stopQuietly();
    }

    private void stopQuietly() {
        extra.close();
        try {
            server.stop();
        } catch (Exception e) {
            log.warn("HTTP server stop: {}", e.toString());
        }
    }

    private String hostPort() {
        String host = config.bind().getHostAddress();
        return (config.bind() instanceof Inet6Address ? "[" + host + "]" : host) + ":" + config.port();
    }

    /** "Address already in use", "Permission denied": the socket error, not Jetty's wrapper text. */
    private static String rootReason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SocketException && t.getMessage() != null) {
                return t.getMessage();
            }
        }
        Throwable last = e;
        while (last.getCause() != null) {
            last = last.getCause();
        }
        return last.getMessage() == null ? last.toString() : last.getMessage();
    }

    /** Routes by path; a bad request gets one line back and one line in the log, and never stops the server. */
    private static final class Router extends Handler.Abstract {

        private final ExtraRoutes extra;
        private final ScriptEndpoint scripts;
        private final GrubConfigEndpoint grub;
        private final ArtifactEndpoint artifacts;
        private final ReportEndpoint reports;
        private final IpxeFileEndpoint ipxeFiles;
        private final Quota<InetAddress> streams;
        private final Refusals refusals;

        Router(ExtraRoutes extra, ScriptEndpoint scripts, GrubConfigEndpoint grub, ArtifactEndpoint artifacts,
               ReportEndpoint reports, IpxeFileEndpoint ipxe, Quota<InetAddress> streams, Refusals refusals) {
            super(InvocationType.BLOCKING); // handle() blocks on writes: Jetty must call it on a (virtual) thread
            this.extra = extra;
            this.scripts = scripts;
            this.grub = grub;
            this.artifacts = artifacts;
            this.reports = reports;
            this.ipxeFiles = ipxe;
            this.streams = streams;
            this.refusals = refusals;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = Request.getPathInContext(request);
            try {
                route(request, response, path);
                callback.succeeded();
            } catch (BadRequest e) {
                log.warn("HTTP 400 {} {} from {}: {}", request.getMethod(), path, Request.getRemoteAddr(request),
                        e.getMessage());
                replyOrFail(request, response, callback, HttpStatus.BAD_REQUEST_400, e.getMessage());
            } catch (IOException e) {
                // The client went away mid-reply; the transfer's event already says so.
                log.debug("HTTP {} {} to {} aborted: {}", request.getMethod(), path, Request.getRemoteAddr(request),
                        e.toString());
                callback.failed(e);
            } catch (RuntimeException e) {
                log.warn("HTTP 500 {} {} from {}: {}", request.getMethod(), path, Request.getRemoteAddr(request),
                        e.toString());
                replyOrFail(request, response, callback, HttpStatus.INTERNAL_SERVER_ERROR_500,
                        "internal error, see the server log");
            }
            return true;
        }

        private void route(Request request, Response response, String path) throws IOException {
            // Jetty lets empty segments through for shim (see the connector); only shim's, directly after /ipxe/,
            // gets past here.
            if (path != null && IpxeFileEndpoint.withoutShimEmptySegment(path).contains("//")) {
                throw new BadRequest("empty segment in the path");
            }
            if (path != null && extra.serve(request, response, path)) {
                return;
            }
            if (!HttpMethod.GET.is(request.getMethod()) && !HttpMethod.HEAD.is(request.getMethod())) {
                response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
                Replies.text(request, response, HttpStatus.METHOD_NOT_ALLOWED_405,
                        "method " + request.getMethod() + " not allowed (GET, HEAD)\n");
                return;
            }
            if (path == null) {
                throw new BadRequest("request without a path");
            }
            if (path.equals(Routes.SCRIPT)) {
                scripts.serve(request, response);
            } else if (GrubConfigEndpoint.handles(path)) {
                grub.serve(request, response, path);
            } else if (path.equals(Routes.REPORT)) {
                reports.serve(request, response);
            } else if (path.startsWith(Routes.ARTIFACTS) || path.startsWith(Routes.IPXE_FILES)) {
                stream(request, response, path);
            } else {
                Replies.text(request, response, HttpStatus.NOT_FOUND_404, "not found: " + path + "\n");
            }
        }

        /** A download holds a connection's writes (and maybe a copy buffer) for long: bounded per address. */
        private void stream(Request request, Response response, String path) throws IOException {
            InetAddress ip = Machines.remoteAddress(request).orElse(null);
            Quota.Verdict verdict = ip == null ? Quota.Verdict.GRANTED : streams.tryAcquire(ip);
            if (verdict != Quota.Verdict.GRANTED) {
                refusals.refuse(verdict == Quota.Verdict.TOTAL ? "http_streams_total" : "http_streams_per_ip",
                        ip.getHostAddress(), "download refused: " + (verdict == Quota.Verdict.TOTAL
                                ? streams.total() + " downloads running" : streams.perSource()
                                + " downloads running for this address"));
                response.getHeaders().put(HttpHeader.RETRY_AFTER, "2");
                Replies.text(request, response, HttpStatus.SERVICE_UNAVAILABLE_503, "busy, try again\n");
                return;
            }
            try {
                if (path.startsWith(Routes.ARTIFACTS)) {
                    artifacts.serve(request, response, path);
                } else {
                    ipxeFiles.serve(request, response, path);
                }
            } finally {
                if (ip != null) {
                    streams.release(ip);
                }
            }
        }

        private static void replyOrFail(Request request, Response response, Callback callback, int status,
                                        String reason) {
            if (response.isCommitted()) {
                callback.failed(new IOException(reason));
                return;
            }
            try {
                response.reset();
                Replies.text(request, response, status, reason + "\n");
                callback.succeeded();
            } catch (IOException | RuntimeException e) {
                callback.failed(e);
            }
        }
    }
}
