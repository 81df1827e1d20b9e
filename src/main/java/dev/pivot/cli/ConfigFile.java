package dev.pivot.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code pivot serve --config FILE} (and {@code pivot check}): a YAML file whose keys are serve's options without
 * their dashes ({@code dhcp: full}, {@code protect-reads: true}, {@code image: /srv/result}). Its entries become
 * command-line arguments placed before the user's, and an option given on the command line replaces its key, so
 * flags override the file. Every key and value is checked against serve's own options, and a bad one is named
 * with its line: {@code pivot.yaml:7: dhcp: ...}.
 */
final class ConfigFile {

    /** The subcommands that take serve's options and so read {@code --config}. */
    static final Set<String> COMMANDS = Set.of("serve", "check");
    /** The key of serve's one positional parameter, the image directory. */
    static final String IMAGE_KEY = "image";
    private static final Set<String> NOT_KEYS = Set.of("config", "help", "version");

    /** The arguments to run, and for each option taken from the file, where it stood ("pivot.yaml:7"). */
    record Expanded(String[] args, Map<String, String> origins) {
        static Expanded unchanged(String[] args) {
            return new Expanded(args, Map.of());
        }

        /** "FILE:LINE: " for an option whose value came from the file, else "". */
        String originOf(ArgSpec arg) {
            if (arg instanceof OptionSpec o) {
                String at = origins.get(o.longestName());
                return at == null ? "" : at + ": ";
            }
            String at = arg != null && arg.isPositional() ? origins.get(IMAGE_KEY) : null;
            return at == null ? "" : at + ": ";
        }
    }

    /** A file that cannot be used: the message names it (and the line). */
    static final class Invalid extends IllegalArgumentException {
        Invalid(String message) {
            super(message);
        }
    }

    private ConfigFile() {
    }

    /**
     * {@code args} with the file's entries inserted after the subcommand, when the subcommand is one of
     * {@link #COMMANDS} and {@code --config} is given; else {@code args} unchanged.
     */
    static Expanded expand(String[] args, CommandSpec serve) {
        if (args.length == 0 || !COMMANDS.contains(args[0])) {
            return Expanded.unchanged(args);
        }
        List<String> given = Arrays.asList(args).subList(1, args.length);
        Path file = configPath(given);
        if (file == null) {
            return Expanded.unchanged(args);
        }
        List<String> inserted = new ArrayList<>();
        Map<String, String> origins = new HashMap<>();
        Set<String> onCommandLine = optionsOn(given, serve);
        boolean positionalGiven = positionalOn(given, serve);
        for (Entry e : read(file)) {
            String at = file.getFileName() + ":" + e.line();
            if (e.key().equals(IMAGE_KEY)) {
                if (!positionalGiven) {
                    inserted.add(scalar(e, at));
                    origins.put(IMAGE_KEY, at);
                }
                continue;
            }
            OptionSpec option = NOT_KEYS.contains(e.key()) ? null : serve.findOption("--" + e.key());
            if (option == null) {
                throw new Invalid(at + ": unknown key '" + e.key() + "' (the keys are pivot serve's options without "
                        + "their dashes, and image; pivot serve --help lists them)");
            }
            if (onCommandLine.contains(option.longestName())) {
                continue;
            }
            origins.put(option.longestName(), at);
            if (option.arity().max() == 0) {
                if (!e.values().equals(List.of("true")) && !e.values().equals(List.of("false"))) {
                    throw new Invalid(at + ": " + e.key() + ": expected true or false, not " + e.shown());
                }
                if (e.values().getFirst().equals("true")) {
                    inserted.add(option.longestName());
                }
            } else if (option.isMultiValue()) {
                e.values().forEach(v -> inserted.add(option.longestName() + "=" + v));
            } else {
                inserted.add(option.longestName() + "=" + scalar(e, at));
            }
        }
        List<String> all = new ArrayList<>();
        all.add(args[0]);
        all.addAll(inserted);
        all.addAll(given);
        return new Expanded(all.toArray(String[]::new), Map.copyOf(origins));
    }

    private static String scalar(Entry e, String at) {
        if (e.values().size() != 1 || e.list()) {
            throw new Invalid(at + ": " + e.key() + ": expected one value, not a list");
        }
        return e.values().getFirst();
    }

    /** The value of --config FILE or --config=FILE among the user's arguments, or null. */
    private static Path configPath(List<String> given) {
        for (int i = 0; i < given.size(); i++) {
            String a = given.get(i);
            if (a.equals("--")) {
                return null;
            }
            if (a.startsWith("--config=")) {
                return Path.of(a.substring("--config=".length()));
            }
            if (a.equals("--config")) {
                if (i + 1 >= given.size()) {
                    return null; // picocli names the missing value
                }
                return Path.of(given.get(i + 1));
            }
        }
        return null;
    }

    /** The long names of the options the user gave. */
    private static Set<String> optionsOn(List<String> given, CommandSpec serve) {
        Set<String> names = new java.util.HashSet<>();
        for (String a : given) {
            if (a.equals("--")) {
                break;
            }
            OptionSpec o = a.startsWith("-") ? serve.findOption(a.contains("=") ? a.substring(0, a.indexOf('=')) : a)
                    : null;
            if (o != null) {
                names.add(o.longestName());
            }
        }
        return names;
    }

    /** Whether the user gave the image directory on the command line. */
    private static boolean positionalOn(List<String> given, CommandSpec serve) {
        for (int i = 0; i < given.size(); i++) {
            String a = given.get(i);
            if (a.equals("--")) {
                return i + 1 < given.size();
            }
            if (a.startsWith("-") && a.length() > 1) {
                OptionSpec o = serve.findOption(a.contains("=") ? a.substring(0, a.indexOf('=')) : a);
                if (o != null && !a.contains("=") && o.arity().max() > 0) {
                    i++; // its value
                }
                continue;
            }
            return true;
        }
        return false;
    }

    /** One top-level key: its values as text (one for a scalar), whether it was a list, and its line. */
    record Entry(String key, List<String> values, boolean list, int line) {
        String shown() {
            return list ? values.toString() : "'" + String.join("", values) + "'";
        }
    }

    /** The file's top-level keys in order; anything but a map of scalars and lists of scalars is refused. */
    static List<Entry> read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new Invalid("--config " + file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new Invalid("--config " + file + ": permission denied");
        } catch (IOException e) {
            throw new Invalid("--config " + file + ": " + (Files.isDirectory(file) ? "a directory, not a file"
                    : e.getMessage()));
        }
        String name = file.getFileName().toString();
        List<Entry> entries = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        try (JsonParser p = new YAMLFactory().createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return entries; // empty, or comments only
            }
            if (t != JsonToken.START_OBJECT) {
                throw new Invalid(name + ":" + p.currentTokenLocation().getLineNr()
                        + ": expected keys and values (key: value), one per line");
            }
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                int line = p.currentTokenLocation().getLineNr();
                if (!seen.add(key)) {
                    throw new Invalid(name + ":" + line + ": " + key + " is given twice");
                }
                t = p.nextToken();
                if (t == JsonToken.START_ARRAY) {
                    List<String> values = new ArrayList<>();
                    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
                        values.add(scalarText(p, t, name, key));
                    }
                    entries.add(new Entry(key, List.copyOf(values), true, line));
                } else {
                    entries.add(new Entry(key, List.of(scalarText(p, t, name, key)), false, line));
                }
            }
        } catch (IOException e) {
            String where = e instanceof com.fasterxml.jackson.core.JsonProcessingException j && j.getLocation() != null
                    ? name + ":" + j.getLocation().getLineNr() : name;
            throw new Invalid(where + ": not YAML (" + firstLine(e.getMessage()) + ")");
        }
        return entries;
    }

    private static String scalarText(JsonParser p, JsonToken t, String name, String key) throws IOException {
        if (t == null || t.isStructStart() || t == JsonToken.VALUE_NULL) {
            throw new Invalid(name + ":" + p.currentTokenLocation().getLineNr() + ": " + key
                    + ": expected a value" + (t == JsonToken.START_ARRAY || t == JsonToken.START_OBJECT ? ", not a "
                    + (t == JsonToken.START_ARRAY ? "nested list" : "map") : ""));
        }
        return p.getText();
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }

    /** Serve's options, as picocli sees them, to check keys against. */
    static CommandSpec serveSpec() {
        return new CommandLine(new ServeCommand()).getCommandSpec();
    }
}
