package dev.pivot.api;

import dev.pivot.history.BootSession;
import dev.pivot.boot.BootEvent;
import dev.pivot.http.Replies;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /api/v1/events}: boot events as Server-Sent Events, live. Each client gets its own bounded queue,
 * drained by its request's virtual thread; the emitting protocol server only offers to queues and never waits,
 * and a client too slow to keep up is disconnected (its EventSource reconnects and re-reads the sessions).
 */
final class EventStream {

    private static final Logger log = LoggerFactory.getLogger(EventStream.class);
    /** Comments this often keep proxies and the server's 60 s idle timeout from closing a quiet stream. */
    static final Duration KEEPALIVE = Duration.ofSeconds(15);
    private static final int QUEUE = 1024;
    private static final String END = "\u0000end";

    private final Set<BlockingQueue<String>> clients = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    /** Streams at once: each holds a queue of up to QUEUE events, so their number bounds that memory. */
    private volatile int maxClients = 64;
    private volatile dev.pivot.boot.Refusals refusals = new dev.pivot.boot.Refusals();

    void limit(int clientsAtOnce, dev.pivot.boot.Refusals counted) {
        this.maxClients = clientsAtOnce;
        this.refusals = counted;
    }

    /** Called on the emitting thread after the event is recorded, with the session it joined. */
    void publish(BootSession session, BootEvent event) {
        if (clients.isEmpty()) {
            return;
        }
        String data = HttpReplies.json(Views.live(session, event));
        String message = "event: boot\ndata: " + data + "\n\n";
        for (BlockingQueue<String> client : clients) {
            if (!client.offer(message)) {
                clients.remove(client);
                client.clear();
                client.offer(END);
                log.info("event stream client too slow ({} events queued): disconnected", QUEUE);
            }
        }
    }

    void serve(Request request, Response response) throws IOException {
        if (clients.size() >= maxClients) {
            refusals.refuse("sse_clients", Request.getRemoteAddr(request), maxClients + " event streams open");
            response.getHeaders().put(HttpHeader.RETRY_AFTER, "10");
            HttpReplies.error(request, response, HttpStatus.SERVICE_UNAVAILABLE_503,
                    maxClients + " event streams are open; try again later");
            return;
        }
        response.setStatus(HttpStatus.OK_200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        if (HttpMethod.HEAD.is(request.getMethod())) {
            Replies.write(response, true, null);
            return;
        }
        BlockingQueue<String> queue = new ArrayBlockingQueue<>(QUEUE);
        clients.add(queue);
        try {
            send(response, "retry: 2000\n: connected\n\n");
            while (!closed) {
                String message = queue.poll(KEEPALIVE.toMillis(), TimeUnit.MILLISECONDS);
                if (END.equals(message)) {
                    break;
                }
                send(response, message == null ? ": keepalive\n\n" : message);
            }
            // The terminating chunk, so the client sees a clean end rather than a cut connection.
            Replies.write(response, true, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            clients.remove(queue);
        }
    }

    private static void send(Response response, String text) throws IOException {
        Replies.write(response, false, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** Ends every stream cleanly, waiting a moment for them to finish, before the server stops. */
    void close() {
        closed = true;
        for (BlockingQueue<String> client : clients) {
            client.clear();
            client.offer(END);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (!clients.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
