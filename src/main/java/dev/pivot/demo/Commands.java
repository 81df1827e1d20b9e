package dev.pivot.demo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short host commands (ip, mknod…) and fails with the command and its output when they fail. */
public final class Commands {
    private Commands() {}

    public static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new LabException("timed out: " + String.join(" ", command));
            }
            if (p.exitValue() != 0) {
                throw new LabException("'" + String.join(" ", command) + "' failed (exit " + p.exitValue() + "): "
                        + out.strip());
            }
            return out;
        } catch (IOException e) {
            throw new LabException("cannot run '" + String.join(" ", command) + "': " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LabException("interrupted while running " + String.join(" ", command), e);
        }
    }

    /** Best effort: used on cleanup paths, where one failure must not stop the rest of the cleanup. */
    static void runQuietly(List<String> command) {
        try {
            run(command);
        } catch (LabException ignored) {
            // already gone, or never made: nothing left to clean
        }
    }

    /** Ends a process we started: SIGTERM, then SIGKILL after a grace period. Only ever by its own handle. */
    static void end(Process p) {
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(3, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(3, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
