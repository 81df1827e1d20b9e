package dev.pivot.boot;

import java.nio.file.Path;
import java.util.List;

/**
 * Where a boot comes from, as the operator names it: an image directory (a NixOS netboot build, a generic image, a
 * directory with a pivot.yaml), or a kernel, initrds and a command line given one by one (pixiecore's
 * {@code boot KERNEL INITRD --cmdline}).
 */
public sealed interface BootSource {

    /** For messages: the directory, or the kernel file. */
    String describe();

    /** An image directory. */
    record ImageDir(Path dir) implements BootSource {
        @Override
        public String describe() {
            return dir.toString();
        }
    }

    /**
     * A kernel and its initrds, booted with {@code cmdline} and nothing else: no Pivot stage 1.
     *
     * @param kernel  the kernel image (bzImage, vmlinuz, Debian installer's {@code linux})
     * @param initrds in load order; may be empty
     * @param cmdline the kernel parameters, one word each
     */
    record KernelFiles(Path kernel, List<Path> initrds, List<String> cmdline) implements BootSource {
        public KernelFiles {
            initrds = List.copyOf(initrds);
            cmdline = List.copyOf(cmdline);
        }

        /** The command line as an operator writes it ("console=ttyS0,115200 priority=low"), split on blanks. */
        public static List<String> words(String cmdline) {
            return cmdline == null || cmdline.isBlank() ? List.of() : List.of(cmdline.strip().split("\\s+"));
        }

        @Override
        public String describe() {
            return kernel.toString();
        }
    }
}
