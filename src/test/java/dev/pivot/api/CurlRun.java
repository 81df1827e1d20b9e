package dev.pivot.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The real curl (Debian package curl): status code and body of one request. */
record CurlRun(int status, String body) {

    static CurlRun run(String url, String... options) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}"));
        cmd.addAll(List.of(options));
        cmd.add(url);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("curl did not finish: " + cmd);
        }
        int cut = out.lastIndexOf('\n');
        if (p.exitValue() != 0 || cut < 0) {
            throw new IOException("curl exit " + p.exitValue() + ": " + out);
        }
        return new CurlRun(Integer.parseInt(out.substring(cut + 1).trim()), out.substring(0, cut));
    }
}
