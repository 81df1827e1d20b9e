package dev.pivot.events;

/** Where protocol servers and stage-1 reports send what they saw. Implementations must not block for long. */
@FunctionalInterface
public interface EventSink {

    void emit(BootEvent event);

    EventSink NONE = event -> { };
}
