package dev.pivot.testsupport;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/** One run of a picocli command in the test's JVM: its exit code and what it printed on each stream. */
public record CliRun(int exit, String out, String err) {

    public static CliRun of(CommandLine command, String... args) {
        return of(command, c -> c.execute(args));
    }

    /** {@code run} (e.g. the CLI's own entry point) on {@code command}, its streams captured. */
    public static CliRun of(CommandLine command, java.util.function.ToIntFunction<CommandLine> run) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        int exit = run.applyAsInt(command);
        return new CliRun(exit, out.toString(), err.toString());
    }
}
