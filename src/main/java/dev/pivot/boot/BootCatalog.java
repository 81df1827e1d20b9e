package dev.pivot.boot;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** machine → spec: what a given machine boots, or nothing when it is not to be booted. */
@FunctionalInterface
public interface BootCatalog {

    Optional<BootSpec> specFor(MacAddress mac);

    /**
     * Every spec this catalog can hand out, so that what a downloaded artifact is (kernel, initrd, root image) is
     * known without asking which profile a machine has: that question may need the store, and a boot storm asks
     * it for every download. Empty when the catalog cannot list them.
     */
    default Collection<BootSpec> allSpecs() {
        return List.of();
    }

    /**
     * The boot for one script request: {@code generation} when the machine asked for one of its profile's
     * generations (its boot menu's choice), else what it boots by default, with the menu to show first.
     */
    default Optional<BootPlan> planFor(MacAddress mac, java.util.OptionalInt generation) {
        return specFor(mac).map(BootPlan::direct);
    }
}
