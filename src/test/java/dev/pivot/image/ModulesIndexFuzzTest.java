package dev.pivot.image;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzz target for the depmod indexes Pivot reads out of an image: modules.dep and modules.builtin (the image
 * check, the NIC drivers stage 1 needs) and modules.alias (the lines stage 1 gets for those drivers). The corpus
 * ({@code ModulesIndexFuzzTestInputs/}) holds lines from Debian's kernel. {@code ./test} fuzzes it for its
 * {@code maxDuration} (profile pivot.fuzz).
 *
 * <p>The properties: any text is read without an exception; every module and dependency has a name; the alias
 * lines kept are whole "alias PATTERN MODULE" lines of the input for the asked modules only.
 */
class ModulesIndexFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void anyIndexTextIsReadWithoutAnException(FuzzedDataProvider in) {
        String module = in.consumeString(20);
        String dep = in.consumeString(2000);
        String builtin = in.consumeString(500);
        String alias = in.consumeRemainingAsString();
        ModuleTree tree = new ModuleTree.Builder("fuzz", "/lib/modules/fuzz").depends(dep).builtin(builtin)
                .file("kernel/drivers/net/" + module + ".ko").build();
        assertThat(tree.modules().keySet()).allSatisfy(name -> assertThat(name).isNotEmpty());
        if (tree.has(module)) {
            assertThat(tree.missingDependencies(module)).allSatisfy(d -> assertThat(d).isNotEmpty());
        }
        tree.ethernetDrivers();
        String kept = Stage1Drivers.aliasLines(alias, Set.of(module));
        Set<String> names = Set.of(module.replace('-', '_'));
        for (String line : kept.lines().toList()) {
            String[] words = line.split("\\s+");
            assertThat(words).hasSize(3);
            assertThat(words[0]).isEqualTo("alias");
            assertThat(names).contains(words[2].replace('-', '_'));
        }
    }
}
