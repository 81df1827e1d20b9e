package dev.pivot.profiles;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.pivot.boot.BootSource;
import dev.pivot.boot.Firmware;
import dev.pivot.boot.MacAddress;
import dev.pivot.boot.ProfileLoader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * profiles.yaml: which image each machine boots.
 *
 * <pre>
 * profiles:
 *   demo:
 *     image: /var/cache/pivot/demo-image   # a NixOS netboot build directory
 *     params: ["console=ttyS0,115200"]     # optional, appended to the kernel command line
 *     loader: ipxe                         # optional: ipxe or grub for its UEFI PXE machines (over --efi-loader)
 *   installer:                             # a kernel and initrds alone, without Pivot's stage 1
 *     kernel: /srv/d-i/linux
 *     initrd: [/srv/d-i/initrd.gz]         # one path, or a list in load order
 *     cmdline: "priority=low"              # optional; params are appended to it
 * groups:
 *   lab:
 *     profile: demo
 *     machines: ["52:54:00:77:00:10"]      # by MAC: always wins over selectors
 *   rack7-uefi:
 *     profile: demo
 *     firmware: uefi                       # bios, uefi, uefi-http, uefi-arm64, … (Firmware.wire())
 *     labels: {rack: r7}                   # labels set through the API; all must match
 * default: demo                            # optional: for every other machine
 * </pre>
 *
 * Every mistake is reported with the file and line it is on.
 */
public record ProfilesFile(Map<String, Profile> profiles, Map<String, Group> groups, Optional<String> defaultProfile) {

    /**
     * @param source an image directory ({@code image:}), or a kernel with initrds and a command line
     * @param params appended to the kernel command line
     * @param loader what its UEFI x86-64 PXE machines load first; empty: `pivot serve`'s {@code --efi-loader}
     */
    public record Profile(String name, BootSource source, List<String> params, Optional<ProfileLoader> loader) {
        public Profile(String name, BootSource source, List<String> params) {
            this(name, source, params, Optional.empty());
        }
    }

    /** Selects by {@code machines} (MACs), or by {@code firmware} and {@code labels}: one or the other. */
    public record Group(String name, String profile, List<MacAddress> machines, Optional<Firmware> firmware,
                        Map<String, String> labels) {
    }

    private static final YAMLMapper YAML = new YAMLMapper();

    public static ProfilesFile parse(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ProfileConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new ProfileConfigException(file + ": cannot read: " + e.getMessage());
        }
        return parse(file.toString(), text, file.toAbsolutePath().getParent());
    }

    /** @param base where relative image paths start */
    static ProfilesFile parse(String name, String text, Path base) {
        JsonNode root;
        Errors errors;
        try {
            root = YAML.readTree(text);
            errors = new Errors(name, lineOfEachPath(text));
        } catch (JsonProcessingException e) {
            throw at(name, e.getLocation(), yamlReason(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new ProfileConfigException(name + ": " + e.getMessage());
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new ProfileConfigException(name + ": empty file (expected profiles:, groups:, default:)");
        }
        errors.object(root, "", "the file", Set.of("profiles", "groups", "default"));
        JsonNode rawProfiles = root.path("profiles");
        if (!rawProfiles.isObject() || rawProfiles.isEmpty()) {
            throw errors.at("profiles", "no profiles (expected a profiles: section with at least one)");
        }
        Map<String, Profile> profiles = new LinkedHashMap<>();
        rawProfiles.properties().forEach(entry -> {
            String p = entry.getKey();
            String at = "profiles." + p;
            JsonNode node = entry.getValue();
            errors.object(node, at, "profile " + p, Set.of("image", "params", "kernel", "initrd", "cmdline", "loader"));
            List<String> params = errors.texts(node.get("params"), at + ".params", "profile " + p + ": params");
            Optional<ProfileLoader> loader = Optional.empty();
            if (node.has("loader")) {
                String l = errors.text(node.get("loader"), at + ".loader", "profile " + p + ": loader");
                loader = Optional.of(ProfileLoader.fromWire(l).orElseThrow(() -> errors.at(at + ".loader",
                        "profile " + p + ": loader '" + l + "' (expected ipxe or grub)")));
            }
            profiles.put(p, new Profile(p, source(errors, node, at, "profile " + p, base), params, loader));
        });
        Map<String, Group> groups = new LinkedHashMap<>();
        Map<MacAddress, String> groupOf = new HashMap<>();
        root.path("groups").properties().forEach(entry -> {
            String g = entry.getKey();
            String at = "groups." + g;
            errors.object(entry.getValue(), at, "group " + g, Set.of("profile", "machines", "firmware", "labels"));
            String profile = errors.text(entry.getValue().get("profile"), at + ".profile", "group " + g + ": profile");
            known(errors, profiles, at + ".profile", "group " + g, profile);
            Optional<Firmware> firmware = Optional.empty();
            if (entry.getValue().has("firmware")) {
                String f = errors.text(entry.getValue().get("firmware"), at + ".firmware", "group " + g + ": firmware");
                firmware = Optional.of(Firmware.fromWire(f).filter(x -> x != Firmware.UNKNOWN).orElseThrow(
                        () -> errors.at(at + ".firmware", "group " + g + ": firmware '" + f
                                + "' (expected one of " + Firmware.wireNames() + ")")));
            }
            Map<String, String> labels = new LinkedHashMap<>();
            JsonNode rawLabels = entry.getValue().path("labels");
            if (!rawLabels.isMissingNode()) {
                if (!rawLabels.isObject()) {
                    throw errors.at(at + ".labels", "group " + g + ": labels must be name: value pairs");
                }
                rawLabels.properties().forEach(l -> labels.put(l.getKey(),
                        errors.text(l.getValue(), at + ".labels." + l.getKey(), "group " + g + ": label " + l.getKey())));
            }
            boolean selects = firmware.isPresent() || !labels.isEmpty();
            if (selects == entry.getValue().has("machines")) {
                throw errors.at(at, "group " + g + (selects ? ": give machines or firmware/labels, not both"
                        : ": selects nothing (give machines, or firmware and/or labels)"));
            }
            if (selects) {
                groups.put(g, new Group(g, profile, List.of(), firmware, Map.copyOf(labels)));
                return;
            }
            List<String> macs = errors.texts(entry.getValue().get("machines"), at + ".machines",
                    "group " + g + ": machines");
            List<MacAddress> parsed = new ArrayList<>();
            for (int i = 0; i < macs.size(); i++) {
                String where = at + ".machines." + i;
                MacAddress mac;
                try {
                    mac = MacAddress.parse(macs.get(i));
                } catch (IllegalArgumentException e) {
                    throw errors.at(where, "group " + g + ": " + e.getMessage());
                }
                String other = groupOf.putIfAbsent(mac, g);
                if (other != null) {
                    throw errors.at(where, "group " + g + ": " + mac + " is already in group " + other);
                }
                parsed.add(mac);
            }
            groups.put(g, new Group(g, profile, List.copyOf(parsed), Optional.empty(), Map.of()));
        });
        Optional<String> dflt = root.has("default")
                ? Optional.of(errors.text(root.get("default"), "default", "default")) : Optional.empty();
        dflt.ifPresent(d -> known(errors, profiles, "default", "default", d));
        return new ProfilesFile(Map.copyOf(profiles), Map.copyOf(groups), dflt);
    }

    /** {@code image: DIR}, or {@code kernel:} with optional {@code initrd:} (one or a list) and {@code cmdline:}. */
    private static BootSource source(Errors errors, JsonNode node, String at, String who, Path base) {
        boolean kernel = node.has("kernel");
        if (kernel == node.has("image")) {
            throw errors.at(at, who + (kernel ? ": give image or kernel, not both"
                    : ": boots nothing (give image: DIR, or kernel: FILE with initrd: and cmdline:)"));
        }
        if (!kernel) {
            for (String k : List.of("initrd", "cmdline")) {
                if (node.has(k)) {
                    throw errors.at(at + "." + k, who + ": " + k + " goes with kernel:, not with image: (an image"
                            + " directory names its own)");
                }
            }
            return new BootSource.ImageDir(base.resolve(errors.text(node.get("image"), at + ".image",
                    who + ": image")).normalize());
        }
        Path file = base.resolve(errors.text(node.get("kernel"), at + ".kernel", who + ": kernel")).normalize();
        JsonNode rawInitrds = node.get("initrd");
        List<String> initrds = rawInitrds != null && rawInitrds.isValueNode()
                ? List.of(errors.text(rawInitrds, at + ".initrd", who + ": initrd"))
                : errors.texts(rawInitrds, at + ".initrd", who + ": initrd");
        String cmdline = node.has("cmdline") ? errors.text(node.get("cmdline"), at + ".cmdline", who + ": cmdline")
                : "";
        return new BootSource.KernelFiles(file, initrds.stream().map(i -> base.resolve(i).normalize()).toList(),
                BootSource.KernelFiles.words(cmdline));
    }

    /** SnakeYAML's several lines ("while parsing …\n in 'reader', line 2 …\n expected …") as one. */
    static String yamlReason(String message) {
        String flat = message.replaceAll(" in 'reader', line \\d+, column \\d+:?", " ")
                .replaceAll("(?m)^\\s*\\^\\s*$", " ").replaceAll("\\s+", " ").strip();
        return flat.isEmpty() ? "malformed YAML" : flat;
    }

    private static void known(Errors errors, Map<String, Profile> profiles, String path, String who, String profile) {
        if (!profiles.containsKey(profile)) {
            throw errors.at(path, who + ": unknown profile '" + profile + "' (known: "
                    + String.join(", ", new TreeSet<>(profiles.keySet())) + ")");
        }
    }

    /** Checks of shape, each failing with the line of the offending key or value. */
    private record Errors(String file, Map<String, Integer> lines) {
        ProfileConfigException at(String path, String message) {
            Integer line = lines.get(path);
            return new ProfileConfigException(file + (line == null ? "" : " line " + line) + ": " + message);
        }

        void object(JsonNode node, String path, String what, Set<String> keys) {
            if (node == null || !node.isObject()) {
                throw at(path, what + ": expected keys " + String.join(", ", new TreeSet<>(keys)));
            }
            node.fieldNames().forEachRemaining(k -> {
                if (!keys.contains(k)) {
                    throw at(path.isEmpty() ? k : path + "." + k, "unknown key '" + k + "' (expected one of "
                            + String.join(", ", new TreeSet<>(keys)) + ")");
                }
            });
        }

        String text(JsonNode node, String path, String what) {
            if (node == null || node.isNull()) {
                throw at(path.substring(0, Math.max(0, path.lastIndexOf('.'))), what + " missing");
            }
            if (!node.isValueNode() || node.asText().isBlank()) {
                throw at(path, what + ": expected a text");
            }
            return node.asText();
        }

        List<String> texts(JsonNode node, String path, String what) {
            if (node == null || node.isNull()) {
                return List.of();
            }
            if (!node.isArray()) {
                throw at(path, what + ": expected a list");
            }
            List<String> out = new ArrayList<>();
            for (int i = 0; i < node.size(); i++) {
                out.add(text(node.get(i), path + "." + i, what + " #" + (i + 1)));
            }
            return List.copyOf(out);
        }
    }

    private static ProfileConfigException at(String name, JsonLocation where, String message) {
        return new ProfileConfigException(name + (where == null || where.getLineNr() < 1 ? "" : " line "
                + where.getLineNr()) + ": " + message);
    }

    /** "groups.lab.machines.1" → the line that value is on, for messages about meaning rather than syntax. */
    private static Map<String, Integer> lineOfEachPath(String text) throws IOException {
        Map<String, Integer> lines = new HashMap<>();
        Deque<String> path = new ArrayDeque<>();
        Deque<Integer> index = new ArrayDeque<>(); // per open array: the next element's index; -1 for objects
        try (JsonParser p = new YAMLFactory().createParser(text)) {
            for (JsonToken t; (t = p.nextToken()) != null; ) {
                int line = p.currentTokenLocation().getLineNr();
                switch (t) {
                    case FIELD_NAME -> {
                        path.addLast(p.currentName());
                        lines.put(String.join(".", path), line);
                    }
                    case START_OBJECT, START_ARRAY -> {
                        elementStart(path, index, lines, line);
                        index.addLast(t == JsonToken.START_ARRAY ? 0 : -1);
                    }
                    case END_OBJECT, END_ARRAY -> {
                        index.removeLast();
                        valueEnd(path, index);
                    }
                    default -> {
                        elementStart(path, index, lines, line);
                        valueEnd(path, index);
                    }
                }
            }
        }
        return lines;
    }

    private static void elementStart(Deque<String> path, Deque<Integer> index, Map<String, Integer> lines, int line) {
        if (!index.isEmpty() && index.getLast() >= 0) {
            path.addLast(String.valueOf(index.getLast()));
            lines.put(String.join(".", path), line);
        }
    }

    /** A value ended: pop its field name or array index. */
    private static void valueEnd(Deque<String> path, Deque<Integer> index) {
        if (index.isEmpty()) {
            return;
        }
        if (index.getLast() >= 0) {
            index.addLast(index.removeLast() + 1);
        }
        if (!path.isEmpty()) {
            path.removeLast();
        }
    }
}
