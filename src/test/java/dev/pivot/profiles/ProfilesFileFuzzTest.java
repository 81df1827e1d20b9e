package dev.pivot.profiles;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzz target for profiles.yaml (Jackson's YAML parser underneath, Pivot's checks on top). The corpus
 * ({@code ProfilesFileFuzzTestInputs/}) holds the documented examples and broken variants. {@code ./test} fuzzes
 * it for its {@code maxDuration} (profile pivot.fuzz).
 *
 * <p>The properties: any text gives profiles or one {@link ProfileConfigException} naming the file; every group
 * names a profile the file defines.
 */
class ProfilesFileFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void anyTextGivesProfilesOrOneNamedError(byte[] data) {
        String text = new String(data, StandardCharsets.UTF_8);
        ProfilesFile file;
        try {
            file = ProfilesFile.parse("fuzz.yaml", text, Path.of("/srv/images"));
        } catch (ProfileConfigException e) {
            assertThat(e.getMessage()).startsWith("fuzz.yaml");
            return;
        }
        file.groups().values().forEach(g -> assertThat(file.profiles()).containsKey(g.profile()));
        file.defaultProfile().ifPresent(p -> assertThat(file.profiles()).containsKey(p));
    }
}
