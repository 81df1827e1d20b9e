package dev.pivot.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * {@code --server}: which running `pivot serve` a client command talks to. One picocli mixin, so machines,
 * sessions and assign spell, default and describe it alike.
 */
final class ServerOptions {

    @Option(names = "--server", paramLabel = "URL", defaultValue = "http://127.0.0.1",
            description = "the running pivot serve; default ${DEFAULT-VALUE}")
    String server;

    /** A client of that server, reading its API token as {@link ApiClient#ApiClient(String, Path)} says. */
    ApiClient client(Path tokenFile) {
        return new ApiClient(server, tokenFile);
    }

    /** A client of that server, with the token from $PIVOT_TOKEN or the default token file, if any. */
    ApiClient client() {
        return client(null);
    }
}
