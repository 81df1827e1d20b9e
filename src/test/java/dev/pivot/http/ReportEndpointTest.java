package dev.pivot.http;

import dev.pivot.boot.Step;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.UrlEncoded;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReportEndpointTest {

    private static List<ReportEndpoint.Report> parse(String query) {
        Fields fields = new Fields(true);
        UrlEncoded.decodeUtf8To(query, fields);
        return ReportEndpoint.parse(fields);
    }

    @Test
    void oneReportCarriesSeveralStepsInTheirOrder() {
        List<ReportEndpoint.Report> reports = parse("mac=52:54:00:00:00:01&token=t"
                + "&step=stage1&status=ok&detail=prelude%20started"
                + "&step=network&status=ok&detail=eth0%2010.0.0.5%2F24");
        assertThat(reports).extracting(ReportEndpoint.Report::step).containsExactly(Step.STAGE1, Step.NETWORK);
        assertThat(reports).extracting(ReportEndpoint.Report::detail)
                .containsExactly("prelude started", "eth0 10.0.0.5/24");
        assertThat(reports).extracting(ReportEndpoint.Report::failed).containsExactly(false, false);
    }

    @Test
    void aSingleStepWithoutStatusOrDetailIsOk() {
        assertThat(parse("mac=52:54:00:00:00:01&step=handover")).singleElement()
                .satisfies(r -> {
                    assertThat(r.step()).isEqualTo(Step.HANDOVER);
                    assertThat(r.failed()).isFalse();
                    assertThat(r.detail()).isEmpty();
                });
    }

    @Test
    void stepsWhoseStatusesOrDetailsDoNotLineUpAreRefused() {
        assertThatThrownBy(() -> parse("mac=52:54:00:00:00:01&step=stage1&step=network&status=ok"))
                .isInstanceOf(BadRequest.class).hasMessageContaining("2 step, 1 status");
    }

    @Test
    void tooManyStepsAreRefused() {
        String five = "&step=stage1".repeat(ReportEndpoint.MAX_STEPS + 1);
        assertThatThrownBy(() -> parse("mac=52:54:00:00:00:01" + five))
                .isInstanceOf(BadRequest.class).hasMessageContaining("at most " + ReportEndpoint.MAX_STEPS);
    }

    @Test
    void aFailedStepAmongOthersIsFailed() {
        assertThat(parse("mac=52:54:00:00:00:01&step=root_fetched&status=ok&detail=a"
                + "&step=handover&status=failed&detail=b"))
                .extracting(ReportEndpoint.Report::failed).containsExactly(false, true);
    }
}
