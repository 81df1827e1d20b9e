package dev.pivot.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Secure Boot chain for UEFI x86-64 clients, from Debian's packages: shim (signed by Microsoft's UEFI CA, which
 * every PC trusts) and the network GRUB signed by Debian (which shim trusts). Found where the packages install them,
 * or where {@code scripts/fetch-boot-loaders.sh} unpacked them without installing; never shipped in git.
 *
 * <p>They are served under the names shim looks for: the firmware loads {@code shimx64.efi}, shim loads
 * {@code grubx64.efi} from the same directory of the same server.
 *
 * <p>Where several GRUBs are found (Debian 12's 2.06 installed or unpacked, Debian 13's 2.12 unpacked beside it), the
 * newest by the version in its SBAT section is served: GRUB 2.12 also reads the ProxyDHCP offer the firmware kept
 * ("net/efinet: Add DHCP proxy support"), so it finds Pivot under {@code --dhcp proxy}, where 2.06 stops at its prompt.
 * Debian signs both with the same key, and Debian 12's shim accepts 2.12's SBAT generation.
 *
 * <p>Debian 13's network GRUB also has GRUB's {@code http} module built in (Debian 12's has TFTP only): with it,
 * kernel and initrds come over HTTP instead of lock-step TFTP. The signed image is monolithic (under Secure Boot no
 * module can be loaded from the server), so whether it is there is read from the image itself.
 */
final class SecureBootLoaders {

    /** The first-stage file name DHCP hands a UEFI x86-64 PXE client. */
    static final String SHIM = "shimx64.efi";
    /** The name shim loads next, beside itself. */
    static final String GRUB = "grubx64.efi";
    /** Where {@code scripts/fetch-boot-loaders.sh} unpacks the packages (dpkg-deb -x), one tree for all. */
    static final Path UNPACKED = Path.of("/var/cache/pivot/loaders/root");
    /** Where it unpacks Debian 13 (trixie)'s grub-efi-amd64-signed, GRUB 2.12. */
    static final Path UNPACKED_TRIXIE = Path.of("/var/cache/pivot/loaders/trixie");
    /** The first GRUB release that reads the firmware's ProxyDHCP offer. */
    static final GrubVersion READS_PROXY_DHCP = new GrubVersion(2, 12);

    /** One file of one package, by its path inside the package. */
    record Part(String servedAs, String pkg, String pathInPackage) {
    }

    static final List<Part> PARTS = List.of(
            new Part(SHIM, "shim-signed", "usr/lib/shim/shimx64.efi.signed"),
            new Part(GRUB, "grub-efi-amd64-signed", "usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed"));

    /** GRUB's upstream version, as its SBAT section names it ({@code grub,GEN,Free Software Foundation,grub,2.12,}). */
    record GrubVersion(int major, int minor) implements Comparable<GrubVersion> {
        private static final Pattern SBAT = Pattern.compile(
                "\ngrub,\\d+,Free Software Foundation,grub,(\\d+)\\.(\\d+)[^,]*,");

        /** Empty when the image has no GRUB SBAT entry (not a GRUB, or one older than SBAT). */
        static Optional<GrubVersion> of(String image) {
            Matcher m = SBAT.matcher(image);
            return m.find() ? Optional.of(new GrubVersion(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))))
                    : Optional.empty();
        }

        boolean readsProxyDhcp() {
            return compareTo(READS_PROXY_DHCP) >= 0;
        }

        /** The first release whose http module Pivot has booted x86 kernels with (Debian 13's signed network GRUB). */
        boolean loadsOverHttpWith(boolean httpModule) {
            return httpModule && compareTo(READS_PROXY_DHCP) >= 0;
        }

        @Override
        public int compareTo(GrubVersion o) {
            return Comparator.comparingInt(GrubVersion::major).thenComparingInt(GrubVersion::minor).compare(this, o);
        }

        /** As GRUB writes it: two digits after the point (2.06, 2.12). */
        @Override
        public String toString() {
            return major + "." + (minor < 10 ? "0" : "") + minor;
        }
    }

    /**
     * Whether GRUB's {@code http} module is built into this image: the module's source file name, which its debug
     * messages carry ({@code grub_dprintf} names {@code net/http.c}), is in the image only when the module is. A GRUB
     * without it gets the TFTP form of grub.cfg, which every network GRUB reads.
     */
    static boolean hasHttpModule(String image) {
        return image.contains(HTTP_MODULE_SOURCE);
    }

    /** What Pivot reads from a GRUB image, from one read of the file. */
    record GrubImage(Path file, Optional<GrubVersion> version, boolean httpModule) {
        static GrubImage read(Path grub) throws IOException {
            String image = new String(Files.readAllBytes(grub), StandardCharsets.ISO_8859_1);
            return new GrubImage(grub, GrubVersion.of(image), hasHttpModule(image));
        }
    }

    /** The name {@link #hasHttpModule} looks for. */
    static final String HTTP_MODULE_SOURCE = "net/http.c";

    /** The outcome: a directory holding the chain under the served names, or what is missing. */
    sealed interface Found {
        /**
         * @param grub        the GRUB file linked as {@link #GRUB}
         * @param grubVersion its version; empty when its SBAT names none
         * @param httpModule  whether GRUB's http module is built in ({@link #hasHttpModule})
         */
        record Chain(Path dir, Path grub, Optional<GrubVersion> grubVersion, boolean httpModule) implements Found {
            /** Whether this GRUB finds its server through ProxyDHCP (GRUB 2.12 and later). */
            boolean readsProxyDhcp() {
                return grubVersion.map(GrubVersion::readsProxyDhcp).orElse(false);
            }

            /** Whether this GRUB gets kernel and initrds over HTTP: 2.12 or later with the http module built in. */
            boolean loadsOverHttp() {
                return grubVersion.map(v -> v.loadsOverHttpWith(httpModule)).orElse(false);
            }
        }

        /** @param missing one line per missing file, naming its package */
        record Missing(List<String> missing) implements Found {
        }
    }

    private SecureBootLoaders() {
    }

    /** Where the packages are looked for: the installed system, then {@link #UNPACKED} and {@link #UNPACKED_TRIXIE}. */
    static final List<Path> ROOTS = List.of(Path.of("/"), UNPACKED, UNPACKED_TRIXIE);

    /** Looks in {@code roots}; links what it finds into {@code dir}: the first shim, the newest GRUB. */
    static Found find(List<Path> roots, Path dir) throws IOException {
        List<String> missing = new ArrayList<>();
        List<Path> found = new ArrayList<>();
        GrubImage grub = null;
        for (Part part : PARTS) {
            List<Path> files = roots.stream().map(r -> r.resolve(part.pathInPackage()))
                    .filter(Files::isRegularFile).toList();
            Optional<Path> file = files.stream().findFirst();
            if (part.servedAs().equals(GRUB)) {
                // The newest by SBAT; one naming no version ranks below every one that does; ties keep the first.
                Comparator<Optional<GrubVersion>> older = Comparator.comparing(v -> v.orElse(null),
                        Comparator.nullsFirst(Comparator.naturalOrder()));
                for (Path candidate : files) {
                    GrubImage image = GrubImage.read(candidate);
                    if (grub == null || older.compare(image.version(), grub.version()) > 0) {
                        grub = image;
                    }
                }
                file = Optional.ofNullable(grub).map(GrubImage::file);
            }
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
        return new Found.Chain(dir, grub.file(), grub.version(), grub.httpModule());
    }
}
