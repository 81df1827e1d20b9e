package dev.pivot.api;

import java.util.LinkedHashMap;
import java.util.Map;

/** Parses Prometheus text exposition: "name{labels} value" lines to a map; comments and blanks skipped. */
public final class PrometheusText {

    private PrometheusText() {
    }

    public static Map<String, Double> parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int cut = line.lastIndexOf(' ');
            samples.put(line.substring(0, cut), Double.parseDouble(line.substring(cut + 1)));
        }
        return samples;
    }

    /** The sample named {@code name} whose labels include every given "k=\"v\"" pair; 0 when absent. */
    public static double value(Map<String, Double> samples, String name, String... labels) {
        return samples.entrySet().stream().filter(e -> {
            String key = e.getKey();
            String n = key.contains("{") ? key.substring(0, key.indexOf('{')) : key;
            if (!n.equals(name)) {
                return false;
            }
            for (String l : labels) {
                if (!key.contains(l)) {
                    return false;
                }
            }
            return true;
        }).mapToDouble(Map.Entry::getValue).findFirst().orElse(0);
    }
}
