package dev.pivot.server;

import com.sun.net.httpserver.HttpServer;
import dev.pivot.artifacts.ArtifactStore;
import dev.pivot.boot.Artifact;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Artifacts fetched from peers (here JDK HTTP servers, as another Pivot's /artifacts/ would answer). */
class PeerArtifactsTest {

    @TempDir
    Path dir;
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final AtomicInteger asked = new AtomicInteger();
    private HttpServer peer;
    private HttpServer empty;

    @BeforeEach
    void peers() throws Exception {
        peer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        peer.createContext("/artifacts/", exchange -> {
            asked.incrementAndGet();
            String sha = exchange.getRequestURI().getPath().split("/")[2];
            byte[] body = served.get(sha);
            exchange.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        peer.start();
        empty = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        empty.createContext("/", exchange -> {
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        empty.start();
    }

    @AfterEach
    void stop() {
        peer.stop(0);
        empty.stop(0);
    }

    private static String url(HttpServer s) {
        return "http://127.0.0.1:" + s.getAddress().getPort();
    }

    private Artifact elsewhere(String content, String name) throws Exception {
        return ArtifactStore.open(dir.resolve("elsewhere")).put(
                new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)), name);
    }

    private static void settle(PeerArtifacts fetching) throws InterruptedException {
        for (int i = 0; i < 100 && fetching.underWay(); i++) {
            Thread.sleep(50);
        }
        assertThat(fetching.underWay()).as("the fetch ended").isFalse();
    }

    /** From the first peer that has it: one that answers 404 is passed over. */
    @Test
    void anArtifactIsFetchedFromAPeerThatHasIt() throws Exception {
        ArtifactStore store = ArtifactStore.open(dir.resolve("here"));
        Artifact root = elsewhere("a root image", "nix-store.squashfs");
        served.put(root.sha256(), "a root image".getBytes(StandardCharsets.UTF_8));
        try (PeerArtifacts fetching = new PeerArtifacts(store)) {
            fetching.fetchMissing(List.of(root), List.of(url(empty), url(peer)));
            settle(fetching);
            assertThat(store.find(root.sha256())).hasValue(root);
            fetching.fetchMissing(List.of(root), List.of(url(peer)));
            settle(fetching);
            assertThat(asked.get()).as("not fetched again once here").isEqualTo(1);
            assertThat(fetching.counts().fetched).hasValue(1);
            assertThat(fetching.counts().fetchedBytes).hasValue(root.size());
            assertThat(fetching.counts().failed).as("a 404 before the peer that has it is no failure").hasValue(0);
        }
    }

    /** Bytes of another sha256 are not stored, and the artifact is not asked for again at the next beat. */
    @Test
    void wrongBytesAreNotStoredNorAskedForAgainAtOnce() throws Exception {
        ArtifactStore store = ArtifactStore.open(dir.resolve("here"));
        Artifact kernel = elsewhere("the kernel", "bzImage");
        served.put(kernel.sha256(), "the kerneL".getBytes(StandardCharsets.UTF_8));
        try (PeerArtifacts fetching = new PeerArtifacts(store)) {
            fetching.fetchMissing(List.of(kernel), List.of(url(peer)));
            settle(fetching);
            assertThat(store.find(kernel.sha256())).isEmpty();
            fetching.fetchMissing(List.of(kernel), List.of(url(peer)));
            settle(fetching);
            assertThat(asked.get()).as("asked once within %s", PeerArtifacts.RETRY_AFTER).isEqualTo(1);
            assertThat(fetching.counts().failed).hasValue(1);
            assertThat(fetching.counts().fetched).hasValue(0);
            assertThat(fetching.counts().fetchedBytes).hasValue(0);
        }
    }

    /** An artifact that would leave less than the disk watch's reserve free is not fetched. */
    @Test
    void theStateDirectorysReserveIsKept() {
        long gib = 1L << 30;
        assertThat(PeerArtifacts.leavesReserve(gib, 10 * gib, 100 * gib)).isTrue();
        assertThat(PeerArtifacts.leavesReserve(6 * gib, 10 * gib, 100 * gib)).as("5 % of 100 GiB").isFalse();
        assertThat(PeerArtifacts.leavesReserve(100L << 20, 300L << 20, 1 * gib)).as("256 MiB at least").isFalse();
        assertThat(PeerArtifacts.leavesReserve(gib, gib / 2, 100 * gib)).isFalse();
    }
}
