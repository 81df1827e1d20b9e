package dev.pivot.api;

import dev.pivot.history.BootSession;
import dev.pivot.boot.BootEvent;
import dev.pivot.boot.Step;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * Prometheus metrics derived from boot events alone: protocol servers know nothing of Micrometer, they emit
 * events, and this listener turns each one (with the session it joined) into counters and timers.
 */
public final class BootMetrics implements AutoCloseable {

    private static final Duration[] STEP_BUCKETS = {Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(20),
            Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(120), Duration.ofSeconds(300)};

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter started;
    private final Counter succeeded;
    private final Counter stalled;
    private final Counter tftpOk;
    private final Counter tftpBytes;
    private final Counter httpBytes;
    private final Counter tftpFailed;
    // Meters looked up once per tag value: the dispatcher records every event of a boot storm.
    private final Map<Step, Counter> failed = new EnumMap<>(Step.class);
    private final Map<BootEvent.DhcpAnswer, Counter> answers = new EnumMap<>(BootEvent.DhcpAnswer.class);
    private final Map<Step, Timer> steps = new EnumMap<>(Step.class);
    /** Listens to the JVM's collector notifications until closed. */
    private final JvmGcMetrics gc = new JvmGcMetrics();

    public BootMetrics() {
        // The process beside the boots: heap and GC pauses, threads, open descriptors, CPU and uptime — what an
        // operator alerts on before a server falls over (jvm_*, process_*, system_*).
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        started = Counter.builder("pivot.boots.started").description("Boot sessions begun").register(registry);
        succeeded = Counter.builder("pivot.boots.succeeded").description("Boots that reached stage 2")
                .register(registry);
        stalled = Counter.builder("pivot.boots.stalled")
                .description("Boots marked stalled: no next event within their step's deadline").register(registry);
        tftpOk = Counter.builder("pivot.tftp.transfers").description("TFTP read transfers").tag("result", "ok")
                .register(registry);
        tftpFailed = Counter.builder("pivot.tftp.transfers").description("TFTP read transfers")
                .tag("result", "failed").register(registry);
        // present at 0 from the start, so rate() works from the first scrape
        tftpBytes = bytes("tftp");
        httpBytes = bytes("http");
    }

    /** Records one event with the session it just joined (a BootSessions listener). */
    public void record(BootSession joined, BootEvent event) {
        if (joined.events().size() == 1) {
            started.increment();
        }
        if (event.step() == Step.STAGE2 && !event.failed()) {
            succeeded.increment();
        }
        if (event.step() == Step.STALLED) {
            stalled.increment();
        }
        if (event.failed() && joined.failure().map(f -> f.equals(event)).orElse(true)) {
            failed.computeIfAbsent(event.step(), step -> Counter.builder("pivot.boots.failed")
                    .description("Boots that failed, by the step that failed first")
                    .tag("step", step.wire()).register(registry)).increment();
        }
        switch (event.step()) {
            case TFTP -> {
                tftpBytes.increment(event.bytes());
                (event.failed() ? tftpFailed : tftpOk).increment();
            }
            case SCRIPT, KERNEL, INITRD, ROOT_IMAGE -> httpBytes.increment(event.bytes());
            case DHCP -> {
                if (!event.failed() && event.dhcp().isPresent()) {
                    answers.computeIfAbsent(event.dhcp().get(), type -> Counter.builder("pivot.dhcp.answers")
                            .description("DHCP answers sent, by type").tag("type", type.wire()).register(registry))
                            .increment();
                }
            }
            default -> { }
        }
        Duration since = Duration.between(joined.events().getFirst().at(), event.at());
        if (!since.isNegative() && !event.failed()) {
            steps.computeIfAbsent(event.step(), step -> Timer.builder("pivot.boot.step")
                    .description("Time from the start of a boot to each step").tag("step", step.wire())
                    .serviceLevelObjectives(STEP_BUCKETS).register(registry)).record(since);
        }
    }

    private Counter bytes(String protocol) {
        return Counter.builder("pivot.served.bytes").baseUnit("bytes").description("Bytes served, by protocol")
                .tag("protocol", protocol).register(registry);
    }

    /** Gauges read when scraped: e.g. events lost by the pipeline, its backlog. */
    public void gauge(String name, String description, java.util.function.Supplier<Number> value) {
        io.micrometer.core.instrument.Gauge.builder(name, value).description(description).register(registry);
    }

    /** A counter kept elsewhere (a protocol server's own), read at each scrape. */
    public void counter(String name, String description, java.util.function.Supplier<Number> value, String... tags) {
        held.add(value); // Micrometer holds a function counter's source weakly: a lambda alone would be collected
        io.micrometer.core.instrument.FunctionCounter.builder(name, value, v -> v.get().doubleValue())
                .description(description).tags(tags).register(registry);
    }

    private final java.util.List<Object> held = new java.util.concurrent.CopyOnWriteArrayList<>();

    private volatile dev.pivot.boot.Refusals refusals;
    private final java.util.Set<String> refusalKinds = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Exports {@code pivot_refused_total{kind=...}}: requests refused for a limit or for want of a secret. */
    public void refusals(dev.pivot.boot.Refusals counted) {
        this.refusals = counted;
    }

    /** The Prometheus text exposition format. */
    public String scrape() {
        dev.pivot.boot.Refusals r = refusals;
        if (r != null) {
            // Kinds appear the first time something is refused; each gets its counter once.
            for (String kind : r.counts().keySet()) {
                if (refusalKinds.add(kind)) {
                    io.micrometer.core.instrument.FunctionCounter.builder("pivot.refused", r, x -> x.count(kind))
                            .description("Requests refused: over a limit, or without the per-boot secret")
                            .tag("kind", kind).register(registry);
                }
            }
        }
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
    }
}
