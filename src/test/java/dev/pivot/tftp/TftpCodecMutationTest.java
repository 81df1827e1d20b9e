package dev.pivot.tftp;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bounded, seeded random mutation of the fuzz seeds (flips, inserted NULs and digits, truncation, splices), run
 * in every build: Jazzer without JAZZER_FUZZ=1 only replays its seeds, this adds 100,000 derived inputs to the
 * same property ({@link TftpCodecFuzzTest#check}). The seed of the random generator is fixed and printed
 * ({@code -Dpivot.mutation.seed=N} tries another).
 */
class TftpCodecMutationTest {

    static final Path SEEDS = Path.of("src/test/resources/dev/pivot/tftp/TftpCodecFuzzTestInputs/"
            + "decodeNeverThrowsAnythingButMalformedPacket");
    static final int INPUTS = 100_000;

    @Test
    void mutatedRequestsOnlyEverFailAsMalformedPackets() throws Exception {
        List<byte[]> seeds = new ArrayList<>();
        try (Stream<Path> files = Files.list(SEEDS)) {
            for (Path file : files.sorted().toList()) {
                seeds.add(Files.readAllBytes(file));
            }
        }
        assertThat(seeds).as("seed inputs in %s", SEEDS).hasSizeGreaterThan(10);
        // Fixed, so every build tries the same inputs and a failure is the change's doing; another seed explores.
        long seed = Long.getLong("pivot.mutation.seed", 20261205L);
        System.out.println("TftpCodecMutationTest seed " + seed + " (-Dpivot.mutation.seed=" + seed + " replays it)");
        Random random = new Random(seed);
        int decoded = 0;
        for (int i = 0; i < INPUTS; i++) {
            byte[] input = mutate(seeds.get(random.nextInt(seeds.size())), seeds, random);
            try {
                TftpCodecFuzzTest.check(input);
            } catch (RuntimeException | AssertionError e) {
                throw new AssertionError("input " + java.util.HexFormat.of().formatHex(input) + " (seed " + seed
                        + "): " + e, e);
            }
            try {
                TftpCodec.decode(input, input.length);
                decoded++;
            } catch (MalformedPacketException expected) {
                // counted below: the mutations must reach both outcomes to mean anything
            }
        }
        System.out.printf("TftpCodecMutationTest: %d inputs, %d decoded, %d malformed%n", INPUTS, decoded,
                INPUTS - decoded);
        assertThat(decoded).as("decodable inputs among the mutations").isBetween(INPUTS / 20, INPUTS - INPUTS / 20);
    }

    static byte[] mutate(byte[] original, List<byte[]> seeds, Random random) {
        byte[] bytes = original.clone();
        for (int n = 1 + random.nextInt(4); n > 0; n--) {
            bytes = switch (random.nextInt(6)) {
                case 0 -> flip(bytes, random);
                case 1 -> insert(bytes, random, (byte) 0);
                case 2 -> insert(bytes, random, (byte) ('0' + random.nextInt(10)));
                case 3 -> bytes.length == 0 ? bytes : java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length));
                case 4 -> splice(bytes, seeds.get(random.nextInt(seeds.size())), random);
                default -> setByte(bytes, random, (byte) random.nextInt(256));
            };
        }
        return bytes;
    }

    static byte[] flip(byte[] bytes, Random random) {
        if (bytes.length > 0) {
            bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
        }
        return bytes;
    }

    static byte[] setByte(byte[] bytes, Random random, byte value) {
        if (bytes.length > 0) {
            bytes[random.nextInt(bytes.length)] = value;
        }
        return bytes;
    }

    static byte[] insert(byte[] bytes, Random random, byte value) {
        int at = random.nextInt(bytes.length + 1);
        byte[] out = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, out, 0, at);
        out[at] = value;
        System.arraycopy(bytes, at, out, at + 1, bytes.length - at);
        return out;
    }

    static byte[] splice(byte[] head, byte[] tail, Random random) {
        int cut = random.nextInt(head.length + 1);
        int from = random.nextInt(tail.length + 1);
        byte[] out = new byte[cut + tail.length - from];
        System.arraycopy(head, 0, out, 0, cut);
        System.arraycopy(tail, from, out, cut, tail.length - from);
        return out;
    }
}
