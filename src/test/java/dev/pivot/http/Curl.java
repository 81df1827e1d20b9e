package dev.pivot.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real curl (Debian package curl) and reads back status, headers and body. */
final class Curl {

    /** @param headers lower-case names; the last response's headers only */
    record Result(int exit, int status, Map<String, String> headers, byte[] body, String stderr) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final Path work;

    Curl(Path work) {
        this.work = work;
    }

    Result get(String url, String... options) throws IOException, InterruptedException {
        Path body = Files.createTempFile(work, "body", ".bin");
        return run(body, url, options);
    }

    /** Runs curl writing the body to the given file (for resume tests, where curl appends to it). */
    Result run(Path bodyFile, String url, String... options) throws IOException, InterruptedException {
        Path headerFile = Files.createTempFile(work, "headers", ".txt");
        Path errFile = Files.createTempFile(work, "stderr", ".txt");
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--http1.1", "--path-as-is", "-D",
                headerFile.toString(), "-o", bodyFile.toString()));
        cmd.addAll(List.of(options));
        cmd.add(url);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(errFile.toFile()).start();
        try {
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("curl did not finish in 120 s: " + cmd);
            }
        } finally {
            p.destroyForcibly();
        }
        return parse(p.exitValue(), Files.readString(headerFile, StandardCharsets.ISO_8859_1),
                Files.exists(bodyFile) ? Files.readAllBytes(bodyFile) : new byte[0], Files.readString(errFile));
    }

    private static Result parse(int exit, String rawHeaders, byte[] body, String stderr) {
        int status = -1;
        Map<String, String> headers = new LinkedHashMap<>();
        for (String line : rawHeaders.split("\r\n")) {
            if (line.startsWith("HTTP/")) {
                status = Integer.parseInt(line.split(" ")[1]);
                headers.clear(); // keep only the final response's headers
            } else if (line.contains(":")) {
                int colon = line.indexOf(':');
                headers.put(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip());
            }
        }
        return new Result(exit, status, headers, body, stderr);
    }
}
