package dev.pivot.format.cpio;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.io.ByteArrayInputStream;
import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzz target for the cpio reader, which reads every initrd an operator hands Pivot (and the parts the
 * initrd splitter cuts out). Regression mode (plain {@code mvn test}) runs the corpus under
 * {@code src/test/resources/dev/pivot/format/cpio/CpioReaderFuzzTestInputs/}: archives GNU cpio wrote, two archives
 * back to back, and cut or damaged ones; {@code JAZZER_FUZZ=1 ./mvnw test -Dtest=CpioReaderFuzzTest} fuzzes for at
 * most {@code maxDuration}.
 *
 * <p>The properties: any bytes read as entries and end, or throw an {@link IOException} (a CpioFormatException for
 * a bad header, an EOF for a cut archive); never anything else, and never more body bytes than the input holds.
 */
class CpioReaderFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void anyBytesReadAsEntriesOrFailAsIo(byte[] data) {
        long bodies = 0;
        int entries = 0;
        try (CpioReader reader = CpioReader.allArchives(new ByteArrayInputStream(data), "fuzz")) {
            for (CpioEntry entry; (entry = reader.next()) != null; ) {
                entries++;
                assertThat(entry.size()).isNotNegative();
                bodies += reader.body().readAllBytes().length;
                assertThat(reader.position()).as("position").isBetween(0L, (long) data.length);
            }
        } catch (IOException expected) {
            return;
        }
        // Every entry took at least a 110-byte header and a name; bodies come out of the same bytes.
        assertThat(entries * 112L + bodies).as("entries and bodies out of %d bytes", data.length)
                .isLessThanOrEqualTo(data.length);
    }
}
