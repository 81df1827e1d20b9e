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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code GET /report?mac=&token=&step=&status=ok|failed&detail=}: what Pivot's stage 1 tells about its progress.
 * Counted only with the machine's per-boot secret ({@code token}, from its kernel command line) or from the address
 * DHCP gave that machine; anything else gets 403. One report may carry up to {@link #MAX_STEPS} steps (the
 * {@code step}, {@code status}, {@code detail} triple repeated, in order): a round trip costs a booting machine more
 * than the bytes, so stage 1 sends steps that are ready together in one.
 */
final class ReportEndpoint {

    private static final Logger log = LoggerFactory.getLogger(ReportEndpoint.class);
    /** Stage 1 sends a short reason; a longer text would only flood the event log. */
    static final int MAX_DETAIL = 300;
    /** Steps in one report: stage 1 sends two at most; a few more leave room, a cap keeps one request small. */
    static final int MAX_STEPS = 4;
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

    /**
     * Reads a report's query parameters: one report per {@code step}, its {@code status} and {@code detail} taken
     * by position (both may be left out entirely: ok, no detail); {@link BadRequest} (a 400) names what is wrong.
     */
    static List<Report> parse(Fields query) {
        MacAddress mac = Machines.macParameter(query)
                .orElseThrow(() -> new BadRequest("report without mac parameter"));
        List<String> steps = values(query, "step");
        List<String> statuses = values(query, "status");
        List<String> details = values(query, "detail");
        if (steps.isEmpty()) {
            throw new BadRequest("report without step parameter");
        }
        if (steps.size() > MAX_STEPS) {
            throw new BadRequest("report with " + steps.size() + " steps (at most " + MAX_STEPS + ")");
        }
        if ((!statuses.isEmpty() && statuses.size() != steps.size())
                || (!details.isEmpty() && details.size() != steps.size())) {
            throw new BadRequest("report with " + steps.size() + " step, " + statuses.size() + " status and "
                    + details.size() + " detail parameters (each step needs its own, in order)");
        }
        List<Report> reports = new ArrayList<>(steps.size());
        for (int i = 0; i < steps.size(); i++) {
            reports.add(new Report(mac, step(steps.get(i)), failed(statuses.isEmpty() ? null : statuses.get(i)),
                    printable(details.isEmpty() || details.get(i) == null ? "" : details.get(i))));
        }
        return reports;
    }

    private static List<String> values(Fields query, String name) {
        List<String> values = query.getValues(name);
        return values == null ? List.of() : values;
    }

    private static boolean failed(String status) {
        if (status == null || status.equals("ok")) {
            return false;
        }
        if (status.equals("failed")) {
            return true;
        }
        throw new BadRequest("bad status parameter '" + printable(status) + "' (expected ok or failed)");
    }

    void serve(Request request, Response response) throws IOException {
        List<Report> reports = parse(Replies.query(request));
        MacAddress mac = reports.getFirst().mac();
        if (!machines.authentic(request, mac)) {
            // Anyone on the LAN could otherwise mark another machine's boot failed or finish it (a stage2 report
            // consumes a --once assignment). Stage 1 sends the secret its kernel command line carries.
            machines.refusals().refuse("report_unauthenticated", Request.getRemoteAddr(request), "report for " + mac
                    + " without its per-boot secret, not from its leased address");
            Replies.text(request, response, HttpStatus.FORBIDDEN_403,
                    "report refused: no per-boot secret for this MAC (token=)\n");
            return;
        }
        if (!Replies.isHead(request) && !budget.take(mac, reports.size())) {
            machines.refusals().refuse("report_rate", mac, "more than " + ReportBudget.PER_MINUTE
                    + " reports in a minute");
            response.getHeaders().put(org.eclipse.jetty.http.HttpHeader.RETRY_AFTER, "60");
            Replies.text(request, response, HttpStatus.TOO_MANY_REQUESTS_429, "too many reports, try later\n");
            return;
        }
        if (!Replies.isHead(request)) {
            String who = machines.describe(request, java.util.Optional.of(mac));
            // The 200 is stage 1's acknowledgement: it waits for the batch that makes the events durable.
            java.util.concurrent.CompletableFuture<?>[] durable = new java.util.concurrent.CompletableFuture<?>[
                    reports.size()];
            for (int i = 0; i < reports.size(); i++) {
                Report report = reports.get(i);
                log.info("report from {}: {} {}{}", who, report.step().wire(), report.failed() ? "failed" : "ok",
                        report.detail().isEmpty() ? "" : ": " + report.detail());
                durable[i] = machines.emitDurably(request, new BootEvent(Instant.now(), mac, report.step(),
                        report.failed(), report.detail(), 0));
            }
            try {
                java.util.concurrent.CompletableFuture.allOf(durable)
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
