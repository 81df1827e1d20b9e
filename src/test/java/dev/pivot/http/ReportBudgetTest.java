package dev.pivot.http;

import dev.pivot.boot.MacAddress;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ReportBudgetTest {

    @Test
    void aMachineGetsSixtyReportsAMinuteAndOthersTheirOwn() {
        ReportBudget budget = new ReportBudget();
        MacAddress a = MacAddress.parse("52:54:00:00:00:01");
        for (int i = 0; i < ReportBudget.PER_MINUTE; i++) {
            assertThat(budget.take(a)).isTrue();
        }
        assertThat(budget.take(a)).isFalse();
        assertThat(budget.take(MacAddress.parse("52:54:00:00:00:02"))).isTrue();
    }

    @Test
    void aFloodOfMacsDoesNotGrowItsMemory() {
        ReportBudget budget = new ReportBudget();
        for (int i = 0; i < 3 * ReportBudget.MACHINES; i++) {
            assertThat(budget.take(MacAddress.of(new byte[]{2, 0, 0, (byte) (i >> 16), (byte) (i >> 8), (byte) i})))
                    .isTrue();
        }
    }
}
