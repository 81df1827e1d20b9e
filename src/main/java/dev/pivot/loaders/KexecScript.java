package dev.pivot.loaders;

import dev.pivot.boot.Artifact;
import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The shell lines that boot a spec from a running Linux with kexec, without firmware. */
public final class KexecScript {

    private KexecScript() {
    }

    /**
     * Through a Pivot server: fetch kernel and initrds by URL, join the initrds, load with the contract's command
     * line, boot. Lines for a POSIX shell with wget and kexec-tools.
     */
    public static List<String> throughServer(BootSpec spec, String baseUrl, MacAddress mac) {
        List<String> lines = new ArrayList<>();
        lines.add("mkdir -p /tmp/pivot-kexec && cd /tmp/pivot-kexec");
        lines.add("wget -O kernel '" + Routes.artifact(baseUrl, spec.kernel(), mac) + "'");
        List<String> parts = new ArrayList<>();
        for (Artifact initrd : spec.initrds()) {
            lines.add("wget -O " + initrd.name() + " '" + Routes.artifact(baseUrl, initrd, mac) + "'");
            parts.add(initrd.name());
        }
        // kexec takes one initrd: the stage-1 artifact is padded to 4 bytes, so plain concatenation works.
        lines.add("cat " + String.join(" ", parts) + " > initrds");
        lines.add(load("kernel", "initrds", KernelCommandLine.of(spec, baseUrl, mac)));
        lines.add("kexec -e");
        return lines;
    }

    /** {@code kexec --load KERNEL --initrd=INITRD --append="..."}, double quotes in the parameters escaped. */
    public static String load(String kernel, String initrd, List<String> append) {
        return "kexec --load " + kernel + " --initrd=" + initrd + " --append=\""
                + append.stream().map(a -> a.replace("\"", "\\\"")).collect(Collectors.joining(" ")) + "\"";
    }
}
