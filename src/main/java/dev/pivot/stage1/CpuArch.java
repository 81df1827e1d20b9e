package dev.pivot.stage1;

import java.nio.file.Path;
import java.util.List;

/**
 * The processor a kernel runs on, as read from the kernel file: it decides which static busybox goes into the
 * stage-1 prelude (the prelude runs before the image's own userland, so it brings its own, built for that kernel).
 */
public enum CpuArch {
    /** Debian's busybox-static, installed on the (x86-64) server itself. */
    X86_64("x86-64", 62, "busybox-static", List.of(Path.of("/bin/busybox"))),
    /**
     * Debian's busybox-static:arm64, never installed on an x86 server: scripts/fetch-boot-loaders.sh --arm64 unpacks
     * it (apt-get download + dpkg-deb -x) into /var/cache/pivot/loaders/arm64; an arm64 server has it at /bin.
     */
    ARM64("arm64", 183, "busybox-static:arm64", List.of(Path.of("/var/cache/pivot/loaders/arm64/bin/busybox")));

    private final String label;
    private final int elfMachine;
    private final String busyboxPackage;
    private final List<Path> busyboxCandidates;

    CpuArch(String label, int elfMachine, String busyboxPackage, List<Path> busyboxCandidates) {
        this.label = label;
        this.elfMachine = elfMachine;
        this.busyboxPackage = busyboxPackage;
        this.busyboxCandidates = busyboxCandidates;
    }

    /** For people: "x86-64", "arm64". */
    public String label() {
        return label;
    }

    /** ELF's e_machine for executables of this processor (EM_X86_64, EM_AARCH64). */
    int elfMachine() {
        return elfMachine;
    }

    /** The Debian package whose static busybox the prelude takes. */
    public String busyboxPackage() {
        return busyboxPackage;
    }

    /** The architecture of the machine this runs on, when it is one of these. */
    static CpuArch host() {
        String arch = System.getProperty("os.arch", "");
        return arch.equals("aarch64") || arch.equals("arm64") ? ARM64 : X86_64;
    }

    /**
     * Where this architecture's static busybox is looked for, in order: the host's own {@code /bin/busybox} when
     * the server runs on this architecture, then where the unpacked package lies.
     */
    public List<Path> busyboxCandidates() {
        if (this == host() && this != X86_64) {
            return java.util.stream.Stream.concat(X86_64.busyboxCandidates.stream(), busyboxCandidates.stream())
                    .toList();
        }
        return busyboxCandidates;
    }

    /** The first candidate that exists, or a {@link Stage1Exception} in one line naming the package. */
    public Path busybox() throws Stage1Exception {
        for (Path p : busyboxCandidates()) {
            if (java.nio.file.Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new Stage1Exception("an " + label + " kernel's stage-1 prelude needs a static busybox for " + label
                + ": missing " + String.join(", ", busyboxCandidates().stream().map(Path::toString).toList())
                + " (Debian package " + busyboxPackage + (this == X86_64 ? ""
                : "; scripts/fetch-boot-loaders.sh --arm64 unpacks it without installing it") + ")");
    }
}
