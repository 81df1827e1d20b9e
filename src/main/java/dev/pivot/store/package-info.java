/**
 * Persistence of boot sessions, events and machines behind the domain's {@link dev.pivot.history.EventLog} and
 * {@link dev.pivot.boot.MachineRepository}: plain JDBC with portable SQL, Flyway migrations from
 * {@code db/migration}, SQLite (WAL) by default and PostgreSQL with the same code. Imports {@link dev.pivot.boot}
 * and {@link dev.pivot.history} (the ports it implements).
 */
package dev.pivot.store;
