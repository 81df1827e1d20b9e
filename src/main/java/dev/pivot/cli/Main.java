package dev.pivot.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `pivot` command. */
@Command(name = "pivot", mixinStandardHelpOptions = true, version = "pivot 0.1.0",
        description = "Network-boots machines from a NixOS (or any Linux) netboot build.",
        subcommands = {ServeCommand.class, DemoCommand.class, ImageCommand.class, MachinesCommand.class,
                SessionsCommand.class, AssignCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** The configured command line, also used by tests to run commands in-process. */
    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setExecutionExceptionHandler(Main::oneLineError);
    }

    /** Bad input gets one clear line, not a stack trace. */
    private static int oneLineError(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        cmd.getErr().println("pivot: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        return 1;
    }
}
