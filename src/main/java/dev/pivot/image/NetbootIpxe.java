package dev.pivot.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a NixOS netboot.ipxe says (nixpkgs netboot.nix):
 * <pre>
 * #!ipxe
 * # comments
 * kernel bzImage init=/nix/store/…/init initrd=initrd &lt;kernelParams&gt; ${cmdline}
 * initrd initrd
 * boot
 * </pre>
 *
 * @param kernel     the kernel file name, relative to the script's directory
 * @param initrds    the initrd file names, in load order
 * @param init       the init= path
 * @param kernelArgs the other kernel parameters in order, without init=, initrd= (the EFI stub's, Pivot writes
 *                   its own) and iPXE variables like ${cmdline} (for chainloaders; nothing sets it here)
 */
public record NetbootIpxe(String kernel, List<String> initrds, String init, List<String> kernelArgs) {

    public NetbootIpxe {
        initrds = List.copyOf(initrds);
        kernelArgs = List.copyOf(kernelArgs);
    }

    public static NetbootIpxe parse(Path file) throws ImageException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ImageException(file + ": no such file");
        } catch (IOException e) {
            throw new ImageException(file + ": cannot read: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** @param source names the script in error messages */
    public static NetbootIpxe parse(String text, String source) throws ImageException {
        List<String> lines = text.lines().toList();
        if (lines.isEmpty() || !lines.getFirst().strip().equals("#!ipxe")) {
            throw new ImageException(source + ": not an iPXE script (the first line is not #!ipxe)");
        }
        String kernel = null;
        List<String> kernelParams = List.of();
        List<String> initrds = new ArrayList<>();
        for (int number = 2; number <= lines.size(); number++) {
            String line = lines.get(number - 1).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            List<String> words = Arrays.asList(line.split("\\s+"));
            String command = words.getFirst();
            List<String> operands = withoutOptions(words.subList(1, words.size()));
            switch (command) {
                case "kernel", "chain", "imgexec" -> {
                    if (kernel != null) {
                        throw new ImageException(source + ":" + number + ": a second kernel line");
                    }
                    if (operands.isEmpty()) {
                        throw new ImageException(source + ":" + number + ": kernel line without a file");
                    }
                    kernel = fileName(operands.getFirst(), "kernel", source, number);
                    kernelParams = operands.subList(1, operands.size());
                }
                case "initrd", "module", "imgfetch" -> {
                    if (operands.isEmpty()) {
                        throw new ImageException(source + ":" + number + ": initrd line without a file");
                    }
                    initrds.add(fileName(operands.getFirst(), "initrd", source, number));
                }
                default -> {
                    // boot, echo, set, … change nothing Pivot needs.
                }
            }
        }
        if (kernel == null) {
            throw new ImageException(source + ": no kernel line");
        }
        if (initrds.isEmpty()) {
            throw new ImageException(source + ": no initrd line");
        }
        String init = null;
        List<String> args = new ArrayList<>();
        for (String param : kernelParams) {
            if (param.startsWith("init=")) {
                init = param.substring("init=".length());
            } else if (param.startsWith("initrd=") || param.matches("\\$\\{[^}]*}")) {
                continue;
            } else if (param.contains("${")) {
                throw new ImageException(source + ": kernel parameter " + param
                        + " uses an iPXE variable Pivot cannot fill in");
            } else {
                args.add(param);
            }
        }
        if (init == null || init.isEmpty()) {
            throw new ImageException(source + ": the kernel line has no init= parameter");
        }
        return new NetbootIpxe(kernel, initrds, init, args);
    }

    /**
     * A kernel's or initrd's file name as the script names it: refused when it holds a control or space character
     * that iPXE's words keep (no build writes one, and a name made of them would look empty in every message).
     */
    private static String fileName(String name, String what, String source, int number) throws ImageException {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isISOControl(c) || Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                throw new ImageException(String.format("%s:%d: the %s file name has a control or space character"
                        + " (U+%04X)", source, number, what, (int) c));
            }
        }
        return name;
    }

    /** Drops iPXE command options ("--name x", "-n x", "--autofree"…) so the first operand is the file. */
    private static List<String> withoutOptions(List<String> words) {
        List<String> operands = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            String word = words.get(i);
            if (operands.isEmpty() && word.startsWith("-")) {
                boolean takesValue = word.equals("--name") || word.equals("-n") || word.equals("--timeout")
                        || word.equals("-t");
                if (takesValue) {
                    i++;
                }
                continue;
            }
            operands.add(word);
        }
        return operands;
    }
}
