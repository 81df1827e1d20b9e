package dev.pivot.bench;

import dev.pivot.boot.MacAddress;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lays out what a running Pivot serves as static files for nginx, so both answer a boot storm with the same bytes:
 * each storm machine's script as fetched from Pivot with Pivot's base URL replaced by nginx's
 * ({@code scripts/<mac>.ipxe}), and every artifact the scripts name hard-linked from Pivot's store
 * ({@code artifacts/<sha256>/<name>}, the same inode, so both read the same cached pages).
 *
 * <pre>NginxMirror PIVOT_URL NGINX_URL STORE_OBJECTS_DIR NGINX_ROOT MACHINES</pre>
 */
public final class NginxMirror {

    private static final Pattern ARTIFACT = Pattern.compile("/artifacts/([0-9a-f]{64})/([^/?\\s]+)");

    private NginxMirror() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            throw new IllegalArgumentException(
                    "usage: NginxMirror PIVOT_URL NGINX_URL STORE_OBJECTS_DIR NGINX_ROOT MACHINES");
        }
        String pivotUrl = args[0];
        String nginxUrl = args[1];
        Path objects = Path.of(args[2]);
        Path root = Path.of(args[3]);
        int machines = Integer.parseInt(args[4]);
        Path scripts = Files.createDirectories(root.resolve("scripts"));
        List<String> linked = new ArrayList<>();
        try (HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            for (int i = 0; i < machines; i++) {
                MacAddress mac = BootStorm.mac(i);
                HttpResponse<String> reply = http.send(
                        HttpRequest.newBuilder(URI.create(pivotUrl + "/boot.ipxe?mac=" + mac)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (reply.statusCode() != 200 || !reply.body().contains(pivotUrl + "/artifacts/")) {
                    throw new IOException("script for " + mac + ": HTTP " + reply.statusCode() + ", "
                            + reply.body().lines().limit(3).toList());
                }
                String script = reply.body().replace(pivotUrl, nginxUrl);
                Files.writeString(scripts.resolve(mac + ".ipxe"), script);
                Matcher m = ARTIFACT.matcher(script);
                while (m.find()) {
                    Path link = root.resolve("artifacts").resolve(m.group(1)).resolve(m.group(2));
                    if (!Files.exists(link)) {
                        Files.createDirectories(link.getParent());
                        Files.createLink(link, objects.resolve(m.group(1)));
                        linked.add(m.group(2) + " " + Files.size(link));
                    }
                }
            }
        }
        System.out.println("mirrored " + machines + " scripts and " + linked.size() + " artifacts " + linked);
    }
}
