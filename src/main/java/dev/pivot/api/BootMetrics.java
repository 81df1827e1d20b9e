package dev.pivot.api;

import dev.pivot.history.BootSession;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.Optional;

/**
 * Prometheus metrics derived from boot events alone: protocol servers know nothing of Micrometer, they emit
 * events, and this listener turns each one (with the session it joined) into counters and timers.
 */
public final class BootMetrics {

    private static final Duration[] STEP_BUCKETS = {Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(20),
            Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120), Duration.ofSeconds(300)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter started;
    private final Counter succeeded;

    public BootMetrics() {
        started = Counter.builder("pivot.boots.started").description("Boot sessions begun").register(registry);
        succeeded = Counter.builder("pivot.boots.succeeded").description("Boots that reached stage 2")
                .register(registry);
        for (String protocol : new String[]{"tftp", "http"}) {
            bytes(protocol); // present at 0 from the start, so rate() works from the first scrape
        }
    }

    /** Records one event with the session it just joined (a BootSessions listener). */
    public void record(BootSession joined, BootEvent event) {
        Optional<BootSession> session = Optional.of(joined);
        if (joined.events().size() == 1) {
            started.increment();
        }
        if (event.step() == Step.STAGE2 && !event.failed()) {
            succeeded.increment();
        }
        if (event.failed() && session.flatMap(BootSession::failure).map(f -> f.equals(event)).orElse(true)) {
            Counter.builder("pivot.boots.failed").description("Boots that failed, by the step that failed first")
                    .tag("step", event.step().wire()).register(registry).increment();
        }
        switch (event.step()) {
            case TFTP -> {
                bytes("tftp").increment(event.bytes());
                Counter.builder("pivot.tftp.transfers").description("TFTP read transfers")
                        .tag("result", event.failed() ? "failed" : "ok").register(registry).increment();
            }
            case SCRIPT, KERNEL, INITRD, ROOT_IMAGE -> bytes("http").increment(event.bytes());
            case DHCP -> {
                if (!event.failed() && event.dhcp().isPresent()) {
                    Counter.builder("pivot.dhcp.answers").description("DHCP answers sent, by type")
                            .tag("type", event.dhcp().get().wire()).register(registry).increment();
                }
            }
            default -> { }
        }
        session.ifPresent(s -> {
            Duration since = Duration.between(s.events().getFirst().at(), event.at());
            if (!since.isNegative() && !event.failed()) {
                Timer.builder("pivot.boot.step").description("Time from the start of a boot to each step")
                        .tag("step", event.step().wire()).serviceLevelObjectives(STEP_BUCKETS)
                        .register(registry).record(since);
            }
        });
    }

    private Counter bytes(String protocol) {
        return Counter.builder("pivot.served.bytes").baseUnit("bytes").description("Bytes served, by protocol")
                .tag("protocol", protocol).register(registry);
    }

    /** Gauges read when scraped: e.g. events lost by the pipeline, its backlog. */
    public void gauge(String name, String description, java.util.function.Supplier<Number> value) {
        io.micrometer.core.instrument.Gauge.builder(name, value).description(description).register(registry);
    }

    /** The Prometheus text exposition format. */
    public String scrape() {
        return registry.scrape();
    }
}
