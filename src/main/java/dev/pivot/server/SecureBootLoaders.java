package dev.pivot.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The Secure Boot chain for UEFI x86-64 clients, from Debian's packages: shim (signed by Microsoft's UEFI CA, which
 * every PC trusts) and the network GRUB signed by Debian (which shim trusts). Found where the packages install them,
 * or where {@code scripts/fetch-boot-loaders.sh} unpacked them without installing; never shipped in git.
 *
 * <p>They are served under the names shim looks for: the firmware loads {@code shimx64.efi}, shim loads
 * {@code grubx64.efi} from the same directory of the same server.
 */
final class SecureBootLoaders {

    /** The first-stage file name DHCP hands a UEFI x86-64 PXE client. */
    static final String SHIM = "shimx64.efi";
    /** The name shim loads next, beside itself. */
    static final String GRUB = "grubx64.efi";
    /** Where {@code scripts/fetch-boot-loaders.sh} unpacks the packages (dpkg-deb -x), one tree for all. */
    static final Path UNPACKED = Path.of("/var/cache/pivot/loaders/root");

    /** One file of one package, by its path inside the package. */
    record Part(String servedAs, String pkg, String pathInPackage) {
    }

    static final List<Part> PARTS = List.of(
            new Part(SHIM, "shim-signed", "usr/lib/shim/shimx64.efi.signed"),
            new Part(GRUB, "grub-efi-amd64-signed", "usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"));

    /** The outcome: a directory holding the chain under the served names, or what is missing. */
    sealed interface Found {
        record Chain(Path dir) implements Found {
        }

        /** @param missing one line per missing file, naming its package */
        record Missing(List<String> missing) implements Found {
        }
    }

    private SecureBootLoaders() {
    }

    /** Looks in the installed system and then in {@link #UNPACKED}; links what it finds into {@code dir}. */
    static Found find(Path dir) throws IOException {
        return find(List.of(Path.of("/"), UNPACKED), dir);
    }

    static Found find(List<Path> roots, Path dir) throws IOException {
        List<String> missing = new ArrayList<>();
        List<Path> found = new ArrayList<>();
        for (Part part : PARTS) {
            Optional<Path> file = roots.stream().map(r -> r.resolve(part.pathInPackage()))
                    .filter(Files::isRegularFile).findFirst();
            if (file.isEmpty()) {
                missing.add(part.servedAs() + " missing: install the Debian package " + part.pkg()
                        + " (or run scripts/fetch-boot-loaders.sh); looked for /" + part.pathInPackage() + " in "
                        + roots);
            } else {
                found.add(file.get());
            }
        }
        if (!missing.isEmpty()) {
            return new Found.Missing(missing);
        }
        Files.createDirectories(dir);
        for (int i = 0; i < PARTS.size(); i++) {
            Path link = dir.resolve(PARTS.get(i).servedAs());
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, found.get(i).toAbsolutePath());
        }
        return new Found.Chain(dir);
    }
}
