package dev.pivot.boot;

import java.util.Optional;

/** machine → spec: what a given machine boots, or nothing when it is not to be booted. */
@FunctionalInterface
public interface BootCatalog {

    Optional<BootSpec> specFor(MacAddress mac);
}
