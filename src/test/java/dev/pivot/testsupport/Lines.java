package dev.pivot.testsupport;

import java.util.List;
import java.util.function.Predicate;

/** Waiting for a line in the output a process writes into a list while the test runs. */
public final class Lines {

    private Lines() {
    }

    /**
     * The first line of {@code lines} that {@code wanted} matches, waiting up to {@code seconds} for it; an
     * AssertionError naming {@code what} and every line seen otherwise. {@code lines} is read with one {@code toArray}
     * per look, so a list another thread appends to must make that safe (CopyOnWriteArrayList, synchronizedList).
     */
    public static String await(List<String> lines, int seconds, Predicate<String> wanted, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (true) {
            for (String line : lines.toArray(String[]::new)) {
                if (wanted.test(line)) {
                    return line;
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no line " + what + " within " + seconds + " s in:\n"
                        + String.join("\n", lines));
            }
            Thread.sleep(100);
        }
    }
}
