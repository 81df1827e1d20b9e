package dev.pivot.architecture;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** docs/architecture.md's package table is the rule: each package imports only the Pivot packages its row lists. */
class ArchitectureTest {

    private static final Path ROOT = Path.of(System.getProperty("pivot.root", "."));
    private static final Path MAIN = ROOT.resolve("src/main/java/dev/pivot");
    private static final Pattern ROW = Pattern.compile("(?m)^\\| `([a-z0-9]+)` \\|[^|]*\\| ([^|]*) \\|$");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import (?:static )?dev\\.pivot\\.([a-z0-9]+)\\.");

    static Map<String, Set<String>> documented() throws IOException {
        String doc = Files.readString(ROOT.resolve("docs/architecture.md"));
        Map<String, Set<String>> allowed = new TreeMap<>();
        Matcher m = ROW.matcher(doc);
        while (m.find()) {
            String list = m.group(2).strip();
            allowed.put(m.group(1), list.equals("—") ? Set.of()
                    : Arrays.stream(list.split(",")).map(String::strip).collect(Collectors.toSet()));
        }
        return allowed;
    }

    static Set<String> importsOf(Path pkg) throws IOException {
        Set<String> used = new TreeSet<>();
        try (Stream<Path> files = Files.walk(pkg)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher m = IMPORT.matcher(Files.readString(f));
                while (m.find()) {
                    used.add(m.group(1));
                }
            }
        }
        used.remove(pkg.getFileName().toString());
        return used;
    }

    @Test
    void everyPackageIsDocumentedAndImportsOnlyWhatItsRowAllows() throws IOException {
        Map<String, Set<String>> allowed = documented();
        Set<String> packages;
        try (Stream<Path> dirs = Files.list(MAIN)) {
            packages = dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertThat(allowed.keySet()).as("packages in docs/architecture.md").containsExactlyInAnyOrderElementsOf(packages);
        for (String pkg : packages) {
            assertThat(importsOf(MAIN.resolve(pkg))).as("Pivot packages that %s imports", pkg)
                    .isSubsetOf(allowed.get(pkg));
        }
    }

    @Test
    void protocolAdaptersNeverImportEachOther() throws IOException {
        Set<String> adapters = Set.of("dhcp", "tftp", "http", "ndp", "nbd");
        for (String a : adapters) {
            assertThat(importsOf(MAIN.resolve(a))).as(a).doesNotContainAnyElementsOf(adapters);
        }
    }
}
