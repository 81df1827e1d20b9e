package dev.pivot.cli;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * pivot's exit codes, the same for every command: scripts and service managers tell a typo from a server that is
 * down without reading the message. README.md and the footer of every command's help show this table.
 */
final class ExitCodes {

    static final int OK = 0;
    /** It was tried and failed: a port in use, a database or a transfer that broke, the server said 5xx. */
    static final int FAILURE = 1;
    /** The command line or an input it names is wrong: an option, a file, an image, a MAC, what the API refused. */
    static final int USAGE = 2;
    /** No Pivot answered at --server. */
    static final int UNREACHABLE = 3;

    /** Code to meaning, in order, for the help footer and README.md. */
    static final Map<String, String> TABLE = table();

    private static Map<String, String> table() {
        Map<String, String> t = new LinkedHashMap<>();
        t.put("0", "ok");
        t.put("1", "runtime failure: a port in use, the database, a transfer, a server error");
        t.put("2", "usage or input error: an option, a file, an image, what the API refused");
        t.put("3", "server unreachable: nothing answered at --server");
        return java.util.Collections.unmodifiableMap(t);
    }

    private ExitCodes() {
    }

    /** The exit code for what a command threw. */
    static int of(Throwable e) {
        return switch (e) {
            case Unreachable u -> UNREACHABLE;
            case ApiError a -> a.status >= 400 && a.status < 500 ? USAGE : FAILURE;
            case IllegalArgumentException bad -> USAGE;
            case picocli.CommandLine.ParameterException bad -> USAGE;
            default -> FAILURE;
        };
    }

    /** Nothing answered at the server's address (refused, no route, no such host, no answer in time). */
    static final class Unreachable extends IOException {
        Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The server answered with an error: {@code status} and its one-line reason. */
    static final class ApiError extends IOException {
        final int status;

        ApiError(int status, String message) {
            super(message);
            this.status = status;
        }
    }
}
