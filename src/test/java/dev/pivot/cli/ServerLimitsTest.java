package dev.pivot.cli;

import dev.pivot.server.ServerConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServerLimitsTest {

    @Test
    void theHelpTextListsEveryBoundWithItsDefault() {
        assertThat(ServerLimits.NAMES_HELP).isEqualTo(ServerLimits.help());
    }

    @Test
    void aSettingChangesOnlyItsBound() {
        ServerConfig.Limits l = ServerLimits.apply(List.of(ServerLimits.Setting.parse("tftp-transfers=9"),
                ServerLimits.Setting.parse("api-body-bytes=100")), true);
        assertThat(l.tftpTransfers()).isEqualTo(9);
        assertThat(l.apiBodyBytes()).isEqualTo(100);
        assertThat(l.httpConnections()).isEqualTo(ServerConfig.Limits.DEFAULTS.httpConnections());
        assertThat(l.trustHostHeader()).isTrue();
    }

    @Test
    void badSettingsNameTheInputAndWhatIsWrong() {
        assertThatThrownBy(() -> ServerLimits.Setting.parse("tftp-transfer=9"))
                .hasMessageContaining("--limit tftp-transfer=9: unknown limit 'tftp-transfer'");
        assertThatThrownBy(() -> ServerLimits.Setting.parse("tftp-transfers=0"))
                .hasMessageContaining("--limit tftp-transfers=0: expected NAME=N");
        assertThatThrownBy(() -> ServerLimits.Setting.parse("tftp-transfers"))
                .hasMessageContaining("expected NAME=N");
    }
}
