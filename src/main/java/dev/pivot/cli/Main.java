package dev.pivot.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The `pivot` command. */
@Command(name = "pivot", mixinStandardHelpOptions = true, version = "pivot 0.1.0",
        description = "Network-boots machines from a NixOS (or any Linux) netboot build.",
        subcommands = {ServeCommand.class, DemoCommand.class, ImageCommand.class, MachinesCommand.class,
                SessionsCommand.class, AssignCommand.class, LabelCommand.class, GenerationsCommand.class,
                RollbackCommand.class, CheckCommand.class, GcCommand.class, CompletionCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        return run(commandLine(), args);
    }

    /** Runs {@code args} on {@code command} (from {@link #commandLine()}), reading serve's {@code --config}. */
    static int run(CommandLine command, String... args) {
        ConfigFile.Expanded expanded;
        try {
            expanded = ConfigFile.expand(args, ConfigFile.serveSpec());
        } catch (ConfigFile.Invalid e) {
            command.getErr().println("pivot: " + e.getMessage());
            command.getErr().flush();
            return ExitCodes.USAGE;
        }
        // A value from the file that serve's options refuse is named with its file and line.
        command.setParameterExceptionHandler((e, a) -> oneLineUsageError(e, expanded.originOf(e.getArgSpec())));
        return command.execute(expanded.args());
    }

    /** The configured command line, also used by tests to run commands in-process. */
    public static CommandLine commandLine() {
        return configure(new CommandLine(new Main()));
    }

    /**
     * One error line and {@link ExitCodes}' table for {@code command} and its subcommands: how `pivot` runs every
     * command, and how tests run one alone.
     */
    static CommandLine configure(CommandLine command) {
        command.setExecutionExceptionHandler(Main::oneLineError)
                .setParameterExceptionHandler((e, args) -> oneLineUsageError(e, ""))
                .setExitCodeExceptionMapper(ExitCodes::of);
        withExitCodes(command);
        return command;
    }

    private static void withExitCodes(CommandLine command) {
        command.getCommandSpec().usageMessage().exitCodeListHeading("%nExit codes:%n")
                .exitCodeList(ExitCodes.TABLE);
        command.getSubcommands().values().forEach(Main::withExitCodes);
    }

    /** What a command threw, as one line on stderr, and its exit code from the table. */
    private static int oneLineError(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        cmd.getErr().println(prefix(cmd) + ": " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        cmd.getErr().flush();
        return ExitCodes.of(e);
    }

    /** A bad command line: picocli's reason and where the options are listed, not the whole usage. */
    private static int oneLineUsageError(CommandLine.ParameterException e, String origin) {
        CommandLine cmd = e.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName();
        cmd.getErr().println(prefix(cmd) + ": " + origin + e.getMessage() + " (see "
                + (name.startsWith("pivot") ? name : "pivot " + name) + " --help)");
        cmd.getErr().flush();
        return ExitCodes.USAGE;
    }

    /**
     * "pivot machines" for the API clients, whose errors stand alone on a terminal; "pivot" for serve and the image
     * commands, whose errors join lines that all start "pivot: ".
     */
    private static String prefix(CommandLine cmd) {
        return cmd.getCommandSpec().mixins().containsKey("server") ? "pivot " + cmd.getCommandName() : "pivot";
    }
}
