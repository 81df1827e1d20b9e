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
 * @param depends  module name → the modules it needs, from modules.dep
 * @param indexes  the depmod files present ("modules.dep", "modules.alias", "modules.builtin", …)
 */
public record ModuleTree(String place, String location, Map<String, String> modules, Map<String, String> builtin,
                         Map<String, List<String>> depends, Set<String> indexes) {

    public ModuleTree {
        modules = Map.copyOf(modules);
        builtin = Map.copyOf(builtin);
        depends = Map.copyOf(depends);
        indexes = Set.copyOf(indexes);
    }

    /** The modules {@code module} needs (per modules.dep) that this tree does not have. */
    public List<String> missingDependencies(String module) {
        return depends.getOrDefault(module, List.of()).stream().filter(d -> !has(d)).toList();
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
        private final Map<String, List<String>> depends = new TreeMap<>();
        private final Set<String> indexes = new TreeSet<>();

        Builder(String place, String location) {
            this.place = place;
            this.location = location;
        }

        /** Adds {@code relativePath} if it names a module file, or notes a depmod index (modules.*). */
        Builder file(String relativePath) {
            String name = moduleName(relativePath);
            if (name != null) {
                modules.putIfAbsent(name, relativePath);
            } else if (relativePath.startsWith("modules.")) {
                indexes.add(relativePath);
            }
            return this;
        }

        /** Adds the lines of a modules.dep file ("kernel/a.ko.xz: kernel/b.ko.xz kernel/c.ko.xz"). */
        Builder depends(String modulesDep) {
            indexes.add("modules.dep");
            for (String line : modulesDep.lines().toList()) {
                int colon = line.indexOf(':');
                String name = colon < 0 ? null : moduleName(line.substring(0, colon).strip());
                if (name != null) {
                    List<String> deps = new ArrayList<>();
                    for (String dep : line.substring(colon + 1).strip().split("\\s+")) {
                        String depName = dep.isEmpty() ? null : moduleName(dep);
                        if (depName != null) {
                            deps.add(depName);
                        }
                    }
                    depends.putIfAbsent(name, List.copyOf(deps));
                }
            }
            return this;
        }

        /** Adds the lines of a modules.builtin file ("kernel/fs/squashfs/squashfs.ko"). */
        Builder builtin(String modulesBuiltin) {
            indexes.add("modules.builtin");
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
            return new ModuleTree(place, location, modules, builtin, depends, indexes);
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
