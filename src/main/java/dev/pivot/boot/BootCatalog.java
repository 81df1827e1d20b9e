package dev.pivot.boot;

import java.util.Optional;

/** machine → spec: what a given machine boots, or nothing when it is not to be booted. */
@FunctionalInterface
public interface BootCatalog {

    Optional<BootSpec> specFor(MacAddress mac);

    /** The walking skeleton's catalog: every machine boots the same image. */
    static BootCatalog everyone(BootSpec spec) {
        return mac -> Optional.of(spec);
    }
}
