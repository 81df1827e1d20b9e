package dev.pivot.boot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BootSecretsTest {

    private static final MacAddress A = MacAddress.parse("52:54:00:00:00:0a");
    private static final MacAddress B = MacAddress.parse("52:54:00:00:00:0b");

    @Test
    void aTokenProvesItselfForItsMacOnly() {
        BootSecrets s = BootSecrets.ephemeral();
        String t = s.issue(A);
        assertThat(t).hasSize(BootSecrets.TOKEN_LENGTH).matches("[0-9a-f]+");
        assertThat(s.verify(A, t)).isTrue();
        assertThat(s.verify(B, t)).isFalse();
        assertThat(s.issue(A)).isNotEqualTo(t);
    }

    @Test
    void forgedMalformedOrForeignTokensFail() {
        BootSecrets s = BootSecrets.ephemeral();
        String t = s.issue(A);
        char last = t.charAt(t.length() - 1);
        assertThat(s.verify(A, t.substring(0, t.length() - 1) + (last == '0' ? '1' : '0'))).isFalse();
        assertThat(s.verify(A, null)).isFalse();
        assertThat(s.verify(A, "")).isFalse();
        assertThat(s.verify(A, t.toUpperCase())).isFalse();
        assertThat(s.verify(A, t + "0")).isFalse();
        assertThat(BootSecrets.ephemeral().verify(A, t)).isFalse();
    }

    @Test
    void theKeyFileIsPrivateAndSurvivesARestart(@TempDir Path dir) throws Exception {
        Path key = dir.resolve("boot-key");
        String t = BootSecrets.fromFile(key).issue(A);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        assertThat(BootSecrets.fromFile(key).verify(A, t)).isTrue();
    }

    /** Servers sharing a database use its key: tokens made under the same bytes count at each, the file's are not. */
    @Test
    void serversUnderOneKeyCheckEachOthersTokens(@TempDir Path dir) throws Exception {
        byte[] shared = BootSecrets.keyInFile(dir.resolve("first"));
        String t = BootSecrets.of(shared).issue(A);
        assertThat(BootSecrets.of(shared.clone()).verify(A, t)).isTrue();
        assertThat(BootSecrets.fromFile(dir.resolve("second")).verify(A, t)).isFalse();
        assertThat(BootSecrets.keyInFile(dir.resolve("first"))).isEqualTo(shared);
        assertThatThrownBy(() -> BootSecrets.of(new byte[16])).hasMessage("a boot key is 32 bytes, not 16");
    }
}
