package dev.pivot.loaders;

import dev.pivot.boot.BootSpec;
import dev.pivot.boot.MacAddress;
import dev.pivot.stage1.Stage1Contract;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernel command line of the stage-1 contract, the same for every loader (iPXE, PXELINUX, kexec): rdinit=,
 * pivot.url=, pivot.mac=, pivot.root=, pivot.sha256=, pivot.size=, init=, then the image's own parameters. A plain
 * kernel + initrds boot (no {@link BootSpec#rootBoot()}) gets its own parameters only: nothing of Pivot's stage 1.
 * The iPXE script adds initrd= words in front for the EFI stub; loaders that hand the initrds over themselves do not.
 */
public final class KernelCommandLine {

    private KernelCommandLine() {
    }

    /** One word per parameter; refused when a parameter could not be passed as one word. */
    public static List<String> of(BootSpec spec, String baseUrl, MacAddress mac) {
        return of(spec, baseUrl, mac, java.util.Optional.empty());
    }

    /** @param token this boot's secret (pivot.token=): stage 1's reports count only with it */
    public static List<String> of(BootSpec spec, String baseUrl, MacAddress mac, java.util.Optional<String> token) {
        return of(spec, List.of(baseUrl), mac, token);
    }

    /** @param baseUrls this server first, then the other live servers stage 1 falls back to (pivot.fallback=) */
    public static List<String> of(BootSpec spec, List<String> baseUrls, MacAddress mac,
                                  java.util.Optional<String> token) {
        String baseUrl = baseUrls.getFirst();
        List<String> args = new ArrayList<>();
        spec.rootBoot().ifPresent(root -> {
            args.add(Stage1Contract.rdinit(root.stage1Init()));
            args.add(Stage1Contract.URL.is(baseUrl));
            if (baseUrls.size() > 1) {
                args.add(Stage1Contract.FALLBACK.is(String.join(",", baseUrls.subList(1, baseUrls.size()))));
            }
            args.add(Stage1Contract.MAC.is(mac));
            token.ifPresent(t -> args.add(Stage1Contract.TOKEN.is(t)));
            args.add(Stage1Contract.ROOT.is(Routes.artifact(baseUrl, root.rootImage())));
            args.add(Stage1Contract.SHA256.is(root.rootImage().sha256()));
            // The size lets stage 1 check free RAM before fetching (the image lands in a tmpfs).
            args.add(Stage1Contract.SIZE.is(root.rootImage().size()));
            args.add(Stage1Contract.INIT + "=" + root.init());
        });
        args.addAll(spec.kernelArgs());
        for (String arg : args) {
            // One word each: a space would split it, "${" would be expanded by iPXE, "||" would end the command.
            if (arg.isEmpty() || arg.chars().anyMatch(c -> c <= ' ' || c == 127) || arg.contains("${")
                    || arg.equals("||") || arg.equals("&&")) {
                throw new IllegalArgumentException("kernel parameter cannot go into an iPXE script: '" + arg + "'");
            }
        }
        return args;
    }
}
