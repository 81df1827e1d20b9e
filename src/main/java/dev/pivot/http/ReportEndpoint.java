package dev.pivot.http;

import dev.pivot.boot.MacAddress;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * {@code GET /report?mac=&token=&step=&status=ok|failed&detail=}: what Pivot's stage 1 tells about its progress.
 * Counted only with the machine's per-boot secret ({@code token}, from its kernel command line) or from the address
 * DHCP gave that machine; anything else gets 403.
 */
final class ReportEndpoint {

    private static final Logger log = LoggerFactory.getLogger(ReportEndpoint.class);
    /** Stage 1 sends a short reason; a longer text would only flood the event log. */
    static final int MAX_DETAIL = 300;
    /** How long a report waits for its event to be committed; stage 1 gives up on a report after 5 s. */
    static final Duration DURABLE_WITHIN = Duration.ofSeconds(4);

    private final Machines machines;
    private final ReportBudget budget = new ReportBudget();

    ReportEndpoint(Machines machines) {
        this.machines = machines;
    }

    /** A stage-1 report as its query string says it. */
    record Report(MacAddress mac, Step step, boolean failed, String detail) {
    }

    /** Reads a report's query parameters; {@link BadRequest} (a 400) names what is wrong. */
    static Report parse(Fields query) {
        MacAddress mac = Machines.macParameter(query)
                .orElseThrow(() -> new BadRequest("report without mac parameter"));
        Step step = step(query.getValue("step"));
        String status = query.getValue("status");
        boolean failed;
        if (status == null || status.equals("ok")) {
            failed = false;
        } else if (status.equals("failed")) {
            failed = true;
        } else {
            throw new BadRequest("bad status parameter '" + printable(status) + "' (expected ok or failed)");
        }
        String detail = printable(query.getValue("detail") == null ? "" : query.getValue("detail"));
        return new Report(mac, step, failed, detail);
    }

    void serve(Request request, Response response) throws IOException {
        Report report = parse(Replies.query(request));
        MacAddress mac = report.mac();
        Step step = report.step();
        boolean failed = report.failed();
        String detail = report.detail();
        if (!machines.authentic(request, mac)) {
            // Anyone on the LAN could otherwise mark another machine's boot failed or finish it (a stage2 report
            // consumes a --once assignment). Stage 1 sends the secret its kernel command line carries.
            machines.refusals().refuse("report_unauthenticated", Request.getRemoteAddr(request), "report for " + mac
                    + " without its per-boot secret, not from its leased address");
            Replies.text(request, response, HttpStatus.FORBIDDEN_403,
                    "report refused: no per-boot secret for this MAC (token=)\n");
            return;
        }
        if (!Replies.isHead(request) && !budget.take(mac)) {
            machines.refusals().refuse("report_rate", mac, "more than " + ReportBudget.PER_MINUTE
                    + " reports in a minute");
            response.getHeaders().put(org.eclipse.jetty.http.HttpHeader.RETRY_AFTER, "60");
            Replies.text(request, response, HttpStatus.TOO_MANY_REQUESTS_429, "too many reports, try later\n");
            return;
        }
        if (!Replies.isHead(request)) {
            log.info("report from {}: {} {}{}", machines.describe(request, java.util.Optional.of(mac)), step.wire(),
                    failed ? "failed" : "ok", detail.isEmpty() ? "" : ": " + detail);
            // The 200 is stage 1's acknowledgement: it waits for the batch that makes the event durable.
            try {
                machines.emitDurably(request, new BootEvent(Instant.now(), mac, step, failed, detail, 0))
                        .get(DURABLE_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                log.warn("report from {} not recorded: {}", mac, e.getCause() == null ? "timed out" : e.getCause()
                        .getMessage());
                Replies.text(request, response, HttpStatus.SERVICE_UNAVAILABLE_503, "not recorded, try again\n");
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while recording a report", e);
            }
        }
        Replies.text(request, response, HttpStatus.OK_200, "ok\n");
    }

    private static Step step(String wire) {
        if (wire == null) {
            throw new BadRequest("report without step parameter");
        }
        try {
            return Step.fromWire(wire);
        } catch (IllegalArgumentException e) {
            String known = Arrays.stream(Step.values()).map(Step::wire).collect(Collectors.joining(", "));
            throw new BadRequest("unknown step '" + printable(wire) + "' (expected one of " + known + ")");
        }
    }

    /** One log line per report: control characters become spaces, and the text is capped. */
    static String printable(String text) {
        String flat = text.codePoints().map(c -> Character.isISOControl(c) ? ' ' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return flat.length() <= MAX_DETAIL ? flat : flat.substring(0, MAX_DETAIL) + "…";
    }
}
