package dev.pivot.history;

import dev.pivot.boot.Step;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;

/**
 * How long a boot may stay at each step (its session's last event) before Pivot marks the session stalled. A step
 * without a deadline never stalls: after the handover the image's init may never report.
 */
public record StallDeadlines(Map<Step, Duration> byStep) {

    /**
     * Room for slow firmware and TCG guests: seconds between DHCP, TFTP and the script; minutes for a kernel and
     * initrds to arrive and boot; a quarter of an hour for the root image.
     */
    public static final StallDeadlines DEFAULT = new StallDeadlines(Map.ofEntries(
            Map.entry(Step.DHCP, Duration.ofSeconds(60)),
            Map.entry(Step.TFTP, Duration.ofSeconds(60)),
            Map.entry(Step.SCRIPT, Duration.ofSeconds(120)),
            Map.entry(Step.KERNEL, Duration.ofSeconds(300)),
            Map.entry(Step.INITRD, Duration.ofSeconds(300)),
            Map.entry(Step.STAGE1, Duration.ofSeconds(120)),
            Map.entry(Step.NETWORK, Duration.ofSeconds(900)),
            Map.entry(Step.ROOT_IMAGE, Duration.ofSeconds(120)),
            Map.entry(Step.ROOT_FETCHED, Duration.ofSeconds(300))));

    public StallDeadlines {
        byStep = Map.copyOf(byStep);
    }

    /** The deadline after {@code step}; empty when a boot may rest there. */
    public Optional<Duration> after(Step step) {
        return Optional.ofNullable(byStep.get(step));
    }

    /**
     * These deadlines with overrides written as {@code STEP=SECONDS} (or {@code STEP=off}), e.g. {@code initrd=40}.
     *
     * @throws IllegalArgumentException naming the text and what is wrong with it
     */
    public StallDeadlines with(Iterable<String> overrides) {
        Map<Step, Duration> out = new EnumMap<>(Step.class);
        out.putAll(byStep);
        for (String text : overrides) {
            String[] kv = text.split("=", 2);
            if (kv.length != 2) {
                throw new IllegalArgumentException("--stall-after " + text + ": expected STEP=SECONDS, e.g. initrd=60");
            }
            Step step;
            try {
                step = Step.fromWire(kv[0]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--stall-after " + text + ": no step '" + kv[0] + "' (steps: "
                        + String.join(", ", java.util.Arrays.stream(Step.values()).map(Step::wire).toList()) + ")");
            }
            if (step == Step.STALLED) {
                throw new IllegalArgumentException("--stall-after " + text + ": a stalled boot stays stalled");
            }
            String value = kv[1].trim();
            if (value.equalsIgnoreCase("off")) {
                out.remove(step);
                continue;
            }
            long seconds;
            try {
                seconds = Long.parseLong(value.endsWith("s") ? value.substring(0, value.length() - 1) : value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--stall-after " + text + ": '" + value
                        + "' is not a number of seconds (or off)");
            }
            if (seconds < 1 || seconds > 86_400) {
                throw new IllegalArgumentException("--stall-after " + text + ": seconds must be 1..86400");
            }
            out.put(step, Duration.ofSeconds(seconds));
        }
        return new StallDeadlines(out);
    }
}
