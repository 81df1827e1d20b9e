package dev.pivot.image;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The kernel modules one lib/modules/&lt;release&gt; directory offers: loadable modules by name, and the
 * modules compiled into the kernel (its modules.builtin).
 *
 * @param place    "initrd" or "root image"
 * @param location the release directory there, as the booted system sees it ("/lib/modules/6.1.0",
 *                 "/nix/store/abc-linux-6.1.0-modules/lib/modules/6.1.0")
 * @param modules  module name ("virtio_net": file name without .ko[.xz|.zst|.gz], dashes as underscores) → its
 *                 path relative to the release directory ("kernel/drivers/net/virtio_net.ko.xz")
 * @param builtin  the same for the modules built into the kernel
 */
public record ModuleTree(String place, String location, Map<String, String> modules, Map<String, String> builtin) {

    public ModuleTree {
        modules = Map.copyOf(modules);
        builtin = Map.copyOf(builtin);
    }

    /** Paths of Ethernet-capable network drivers beside drivers/net/ethernet/ (not tunnels, bonds, phys…). */
    private static final List<String> NIC_PATHS = List.of("kernel/drivers/net/ethernet/", "kernel/drivers/net/usb/",
            "kernel/drivers/net/hyperv/", "kernel/drivers/net/vmxnet3/");
    private static final Set<String> NIC_MODULES = Set.of("virtio_net", "xen_netfront");

    /** Collects module names from file paths relative to the release directory. */
    static final class Builder {
        private final String place;
        private final String location;
        private final Map<String, String> modules = new TreeMap<>();
        private final Map<String, String> builtin = new TreeMap<>();

        Builder(String place, String location) {
            this.place = place;
            this.location = location;
        }

        /** Adds {@code relativePath} if it names a module file. */
        Builder file(String relativePath) {
            String name = moduleName(relativePath);
            if (name != null) {
                modules.putIfAbsent(name, relativePath);
            }
            return this;
        }

        /** Adds the lines of a modules.builtin file ("kernel/fs/squashfs/squashfs.ko"). */
        Builder builtin(String modulesBuiltin) {
            for (String line : modulesBuiltin.lines().map(String::strip).toList()) {
                String name = moduleName(line);
                if (name != null) {
                    builtin.putIfAbsent(name, line);
                }
            }
            return this;
        }

        boolean isEmpty() {
            return modules.isEmpty() && builtin.isEmpty();
        }

        ModuleTree build() {
            return new ModuleTree(place, location, modules, builtin);
        }
    }

    /** "kernel/drivers/net/virtio_net.ko.xz" → "virtio_net"; null for a file that is not a module. */
    static String moduleName(String path) {
        String base = path.substring(path.lastIndexOf('/') + 1);
        for (String ext : new String[] {".ko", ".ko.xz", ".ko.zst", ".ko.gz"}) {
            if (base.endsWith(ext) && base.length() > ext.length()) {
                return base.substring(0, base.length() - ext.length()).replace('-', '_');
            }
        }
        return null;
    }

    /** Loadable or built in. */
    public boolean has(String module) {
        return modules.containsKey(module) || builtin.containsKey(module);
    }

    public boolean isBuiltin(String module) {
        return builtin.containsKey(module);
    }

    /** The Ethernet drivers among the loadable and built-in modules, sorted by name. */
    public Set<String> ethernetDrivers() {
        Set<String> nics = new TreeSet<>();
        for (Map<String, String> set : List.of(modules, builtin)) {
            set.forEach((name, path) -> {
                if (NIC_MODULES.contains(name) || NIC_PATHS.stream().anyMatch(path::startsWith)) {
                    nics.add(name);
                }
            });
        }
        return nics;
    }

    /** "a, b, c and 12 more" for messages. */
    static String sample(Set<String> names, List<String> preferred, int max) {
        List<String> shown = new ArrayList<>();
        preferred.stream().filter(names::contains).forEach(shown::add);
        names.stream().filter(n -> !shown.contains(n)).forEach(shown::add);
        if (shown.size() <= max) {
            return String.join(", ", shown);
        }
        return String.join(", ", shown.subList(0, max)) + " and " + (shown.size() - max) + " more";
    }
}
