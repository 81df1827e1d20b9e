package dev.pivot.cli;

import dev.pivot.boot.BootSource;
import dev.pivot.server.PivotServer;
import dev.pivot.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * `pivot check`: what `pivot serve` with the same options (and {@code --config}) would refuse, found without
 * serving or importing anything — each option, the interface or address, the DHCP range, the profiles file and the
 * image directory. Exit 0 and one summary line when all is well, else the usual one-line error and exit 2.
 */
@Command(name = "check", description = "Check serve's options, --config file and profiles without starting anything.")
final class CheckCommand implements Callable<Integer> {

    @Mixin
    ServeCommand serve;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ServerConfig config = serve.config();
        PivotServer.Checked checked = PivotServer.check(config);
        if (config.source() instanceof BootSource.ImageDir(Path dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + ": "
                    + (Files.exists(dir) ? "not a directory" : "no such directory"));
        }
        PrintWriter out = spec.commandLine().getOut();
        String profiles = checked.profiles().map(f -> f.profiles().size() + " profile"
                + (f.profiles().size() == 1 ? "" : "s") + " (" + String.join(", ", f.profiles().keySet()) + "), "
                + f.groups().size() + " group" + (f.groups().size() == 1 ? "" : "s")).orElse("no profiles file");
        out.printf("pivot check: ok: %s on %s, dhcp %s%s, %s%n", config.source().describe(),
                checked.where().address().getHostAddress()
                        + checked.where().interfaceName().map(i -> " (" + i + ")").orElse(""),
                config.dhcp().name().toLowerCase(java.util.Locale.ROOT),
                config.range().map(r -> " " + r).orElse(""), profiles);
        out.flush();
        return ExitCodes.OK;
    }
}
