package dev.pivot.boot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

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
}
