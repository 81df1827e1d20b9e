package dev.pivot.boot;

import java.util.concurrent.CompletableFuture;

/**
 * Where protocol servers and stage-1 reports hand what they saw. Implementations never block the caller on a
 * disk, and never throw because storage failed: a DHCP, TFTP or HTTP answer must not depend on the event log.
 */
@FunctionalInterface
public interface EventSink {

    void emit(BootEvent event);

    /**
     * Emits the event and completes once it is durable, or exceptionally when it could not be kept. A stage-1
     * report's 200 waits for this: a 200 means the event is kept.
     */
    default CompletableFuture<Void> emitDurably(BootEvent event) {
        emit(event);
        return CompletableFuture.completedFuture(null);
    }

    EventSink NONE = event -> { };
}
