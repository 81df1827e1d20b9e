package dev.pivot.boot;

import java.util.List;
import java.util.Optional;

/**
 * Machines seen past DHCP so far (the {@link EventLog} marks them seen once one fetches a file or its script; DHCP
 * alone makes no machine) and the labels operators give them.
 */
public interface MachineRepository {

    /** Every machine, most recently seen first. */
    List<Machine> machines();

    /** One page of {@link #machines()}: {@code limit} machines from the {@code offset}-th. */
    default List<Machine> machines(int offset, int limit) {
        return machines().stream().skip(offset).limit(limit).toList();
    }

    Optional<Machine> machine(MacAddress mac);

    /** Sets (or, with an empty value, removes) a label; false when the machine was never seen. */
    boolean label(MacAddress mac, String name, String value);
}
