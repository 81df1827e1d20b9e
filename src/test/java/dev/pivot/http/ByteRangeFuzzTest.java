package dev.pivot.http;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Jazzer fuzz target for the Range header, which any HTTP client controls. Regression mode (plain {@code mvn test})
 * runs the corpus under {@code src/test/resources/dev/pivot/http/ByteRangeFuzzTestInputs/}; {@code JAZZER_FUZZ=1
 * ./mvnw test -Dtest=ByteRangeFuzzTest} fuzzes for at most {@code maxDuration}. An input is 8 bytes of size (big
 * endian, taken modulo 2^42 so 5 GiB files and beyond are in reach) and then the header as ISO-8859-1, as Jetty
 * hands header bytes over.
 *
 * <p>The property: any header gives Whole, Unsatisfiable or a Part inside the representation (never an exception,
 * never a byte the file does not have), and a Part's Content-Range names it.
 */
class ByteRangeFuzzTest {

    @FuzzTest(maxDuration = "20s")
    void aRangeIsAlwaysInsideTheRepresentation(byte[] data) {
        if (data.length < 8) {
            return;
        }
        long size = ByteBuffer.wrap(data, 0, 8).getLong() & ((1L << 42) - 1);
        String header = new String(data, 8, data.length - 8, StandardCharsets.ISO_8859_1);
        ByteRange range = ByteRange.parse(header, size);
        assertThat(range).isNotNull();
        if (range instanceof ByteRange.Part part) {
            assertThat(part.first()).as("first of %s for size %d", header, size).isBetween(0L, size - 1);
            assertThat(part.last()).as("last of %s for size %d", header, size).isBetween(part.first(), size - 1);
            assertThat(part.contentRange(size)).isEqualTo("bytes " + part.first() + "-" + part.last() + "/" + size);
        }
    }
}
