package dev.pivot.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.UrlEncoded;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzz target for the stage-1 report's query string ({@code /report?mac=…&step=…&status=…&detail=…}), which
 * anything on the network can send. The query is decoded as Jetty decodes it for the endpoint, then read by
 * {@link ReportEndpoint#parse}. The corpus ({@code ReportQueryFuzzTestInputs/}) holds what the prelude's
 * urlencode() sends. {@code ./test} fuzzes it for its {@code maxDuration} (profile pivot.fuzz).
 *
 * <p>The properties: any query gives a report or a {@link BadRequest} (a 400), never another exception; a report's
 * detail is one printable line no longer than the cap.
 */
class ReportQueryFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void anyQueryGivesAReportOrABadRequest(byte[] data) {
        String query = new String(data, StandardCharsets.ISO_8859_1);
        Fields fields = new Fields(true);
        try {
            UrlEncoded.decodeUtf8To(query, fields);
        } catch (RuntimeException e) {
            return; // Replies.query answers 400 for a query Jetty cannot decode
        }
        java.util.List<ReportEndpoint.Report> reports;
        try {
            reports = ReportEndpoint.parse(fields);
        } catch (BadRequest e) {
            assertThat(e.getMessage()).doesNotContain("\n");
            return;
        }
        assertThat(reports).isNotEmpty().hasSizeLessThanOrEqualTo(ReportEndpoint.MAX_STEPS);
        for (ReportEndpoint.Report report : reports) {
            assertThat(report.detail()).doesNotContain("\n").doesNotContain("\r")
                    .hasSizeLessThanOrEqualTo(ReportEndpoint.MAX_DETAIL + 1);
            assertThat(report.mac()).isNotNull();
            assertThat(report.step()).isNotNull();
        }
    }
}
