/**
 * The domain: machines, firmware, boot specs and the first-loader policy, profiles, groups and assignments, typed
 * boot events and the {@link dev.pivot.boot.EventSink} port the protocols emit them through. Imports nothing of
 * Pivot; every other package may import it.
 */
package dev.pivot.boot;
