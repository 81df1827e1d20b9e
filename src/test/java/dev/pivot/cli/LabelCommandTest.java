package dev.pivot.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

/** `pivot label`'s KEY=VALUE arguments, checked before anything is sent. */
class LabelCommandTest {

    @Test
    void keyValueSetsKeyEqualsRemovesAndTheValueMayHoldEquals() {
        assertThat(LabelCommand.parse(List.of("rack=r7", "role=", "note=a=b")))
                .containsExactly(entry("rack", "r7"), entry("role", ""), entry("note", "a=b"));
    }

    @Test
    void anArgumentWithoutEqualsOrWithoutANameIsNamed() {
        assertThatThrownBy(() -> LabelCommand.parse(List.of("rack=r7", "rack")))
                .hasMessage("'rack': expected KEY=VALUE, or KEY= to remove the label");
        assertThatThrownBy(() -> LabelCommand.parse(List.of("=r7")))
                .hasMessage("'=r7': the label has no name (expected KEY=VALUE)");
        assertThatThrownBy(() -> LabelCommand.parse(List.of("build date=today")))
                .hasMessage("'build date=today': a label name is 1 to 100 letters, digits, '.', '_', ':' or '-'");
    }
}
