package dev.pivot.tftp;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Resolves a requested TFTP file name to something readable, never outside the roots.
 *
 * <p>Rules, checked on the name as received, before any file system access:
 * <ul>
 *   <li>one leading "/" is stripped, as tftpd-hpa does with {@code -s}: firmware and PXELINUX configs often ask
 *       for "/pxelinux.0" meaning "the root's pxelinux.0"; a name still absolute after that ("//etc/passwd") is
 *       refused;</li>
 *   <li>refused: empty names, NUL bytes, backslashes (a Windows-style separator we will not guess about),
 *       ".." segments, and a name that resolves (symlinks followed) outside the root holding it.</li>
 * </ul>
 * Roots are searched in order (the operator's {@code --tftp-root} directories, then the distro's iPXE directory);
 * the first root with a regular readable file wins. The distro's iPXE directory is a <em>package</em> root: its
 * symlinks were made by the package (Debian links /usr/lib/ipxe/ipxe.efi → /boot/ipxe.efi) and are followed
 * wherever they point; names asked of it are still checked as above. Generated files (per-machine PXELINUX configs, iPXE scripts
 * for TFTP-only clients) are asked for last, so a file an operator puts on disk overrides a generated one.
 */
public final class TftpFiles {

    private static final Logger log = LoggerFactory.getLogger(TftpFiles.class);

    /** Makes files that exist only in memory, e.g. "pxelinux.cfg/01-52-54-00-12-34-56" for that client. */
    @FunctionalInterface
    public interface Generator {
        Optional<byte[]> generate(String name, InetAddress client);

        /**
         * A name a loader asks for and does without (shim's optional revocation lists, GRUB's module lists): its
         * "file not found" is part of a healthy boot, so it goes to neither the warnings nor the boot's timeline.
         */
        default boolean probe(String name) {
            return false;
        }

        /** The content for {@code name}: a file streamed from disk (a large one), or bytes made in memory. */
        default Optional<TftpContent> content(String name, InetAddress client) {
            return generate(name, client).map(TftpContent.MemoryContent::new);
        }

        Generator NONE = (name, client) -> Optional.empty();
    }

    /** The outcome of one lookup. */
    public sealed interface Resolution { }

    public record Found(String name, TftpContent content) implements Resolution { }

    /**
     * @param errorCode the TFTP error code to answer with; reason is for the log and the client
     * @param probe     a name a loader asks for and does without ({@link Generator#probe}): not a failure
     */
    public record Refused(int errorCode, String reason, boolean probe) implements Resolution {
        public Refused(int errorCode, String reason) {
            this(errorCode, reason, false);
        }
    }

    private final List<Path> roots;
    private final Set<Path> packageRoots;
    private final Generator generator;
    private final Map<Path, Path> realRoots = new ConcurrentHashMap<>();

    /**
     * @param roots        searched in order
     * @param packageRoots those of the roots whose symlinks may point outside them (installed by a package)
     * @param generator    asked last, for files that exist only in memory
     */
    public TftpFiles(List<Path> roots, Set<Path> packageRoots, Generator generator) {
        this.roots = List.copyOf(roots);
        this.packageRoots = Set.copyOf(packageRoots);
        this.generator = generator;
    }

    public TftpFiles(List<Path> roots, Generator generator) {
        this(roots, Set.of(), generator);
    }

    public static TftpFiles of(List<Path> roots) {
        return new TftpFiles(roots, Generator.NONE);
    }

    /** The operator's roots (confined), then the distro's iPXE directory (its package symlinks followed). */
    public static TftpFiles withDistroIpxe(List<Path> operatorRoots, Path ipxeDir) {
        return withDistroIpxe(operatorRoots, ipxeDir, Generator.NONE);
    }

    /** As above, with generated per-machine files asked for last. */
    public static TftpFiles withDistroIpxe(List<Path> operatorRoots, Path ipxeDir, Generator generator) {
        List<Path> all = new ArrayList<>(operatorRoots);
        all.add(ipxeDir);
        return new TftpFiles(all, Set.of(ipxeDir), generator);
    }

    /**
     * As above, with more package directories after the iPXE one (the Secure Boot chain's shim and GRUB, linked from
     * where Debian's packages put them).
     */
    public static TftpFiles withDistroLoaders(List<Path> operatorRoots, Path ipxeDir, List<Path> loaderDirs,
                                              Generator generator) {
        List<Path> all = new ArrayList<>(operatorRoots);
        all.add(ipxeDir);
        all.addAll(loaderDirs);
        Set<Path> packages = new java.util.HashSet<>(loaderDirs);
        packages.add(ipxeDir);
        return new TftpFiles(all, packages, generator);
    }

    /** Asks {@code first}, then {@code second}. */
    public static Generator both(Generator first, Generator second) {
        return new Generator() {
            @Override
            public Optional<byte[]> generate(String name, InetAddress client) {
                return first.generate(name, client).or(() -> second.generate(name, client));
            }

            @Override
            public Optional<TftpContent> content(String name, InetAddress client) {
                return first.content(name, client).or(() -> second.content(name, client));
            }

            @Override
            public boolean probe(String name) {
                return first.probe(name) || second.probe(name);
            }
        };
    }

    /** The root with its symlinks resolved, remembered once it exists (a root is not moved while serving). */
    private Path realRoot(Path root) throws IOException {
        Path real = realRoots.get(root);
        if (real == null) {
            real = root.toRealPath();
            realRoots.put(root, real);
        }
        return real;
    }

    public List<Path> roots() {
        return roots;
    }

    public Resolution resolve(String requested, InetAddress client) {
        Optional<String> unsafe = unsafeReason(requested);
        if (unsafe.isPresent()) {
            return refused(TftpPacket.Error.ACCESS_VIOLATION, requested, unsafe.get());
        }
        String name = requested.startsWith("/") ? requested.substring(1) : requested;
        for (Path root : roots) {
            Path candidate;
            try {
                candidate = root.resolve(name);
            } catch (java.nio.file.InvalidPathException e) {
                return refused(TftpPacket.Error.FILE_NOT_FOUND, requested, "not a valid path here: " + e.getReason());
            }
            try {
                // One realpath and one stat per root tried: this runs before every transfer's first answer.
                Path real;
                try {
                    real = candidate.toRealPath();
                } catch (NoSuchFileException e) {
                    continue;
                }
                if (!packageRoots.contains(root) && !real.startsWith(realRoot(root))) {
                    // The log names the target; the client only learns that the name is refused (a symlink's
                    // target is the server's business).
                    log.warn("TFTP: refused '{}': resolves outside its root {} (to {})", printable(requested), root,
                            real);
                    return new Refused(TftpPacket.Error.ACCESS_VIOLATION, "access violation");
                }
                BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class);
                if (attributes.isRegularFile() && Files.isReadable(real)) {
                    return new Found(name, new TftpContent.FileContent(real, attributes.size()));
                }
            } catch (IOException e) {
                log.warn("TFTP: cannot inspect '{}' under {}: {}", requested, root, e.toString());
            }
        }
        Optional<TftpContent> generated = generator.content(name, client);
        if (generated.isPresent()) {
            return new Found(name, generated.get());
        }
        return new Refused(TftpPacket.Error.FILE_NOT_FOUND, "file not found", generator.probe(name));
    }

    /** Why a name is refused before touching the file system, or empty when it is acceptable. */
    static Optional<String> unsafeReason(String requested) {
        if (requested.isEmpty()) {
            return Optional.of("empty file name");
        }
        if (requested.indexOf('\0') >= 0) {
            return Optional.of("NUL byte in file name");
        }
        if (requested.indexOf('\\') >= 0) {
            return Optional.of("backslash in file name");
        }
        String name = requested.startsWith("/") ? requested.substring(1) : requested;
        if (name.startsWith("/")) {
            return Optional.of("absolute path");
        }
        if (name.isEmpty()) {
            return Optional.of("names the root directory");
        }
        List<String> segments = new ArrayList<>(List.of(name.split("/", -1)));
        if (segments.contains("..")) {
            return Optional.of("'..' segment");
        }
        return Optional.empty();
    }

    private static Refused refused(int code, String requested, String reason) {
        log.warn("TFTP: refused '{}': {}", printable(requested), reason);
        return new Refused(code, reason);
    }

    /** The name with control bytes shown as \xNN, so a hostile name cannot forge log lines. */
    static String printable(String name) {
        StringBuilder out = new StringBuilder(name.length());
        for (char c : name.toCharArray()) {
            if (c < 0x20 || c == 0x7f || c > 0xff) {
                out.append(String.format("\\x%02x", (int) c & 0xff));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
