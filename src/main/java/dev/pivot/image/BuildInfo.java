package dev.pivot.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a boot menu says about a build, as systemd-boot's NixOS entries do: its NixOS version (from the system
 * path its init lies in), when it was built, and the store path it came from.
 *
 * @param version "24.11.20241201.abcdef1", or "" when the init path names none
 * @param built   the result link's time (when `nix build` made it); the build directory's when it is no link;
 *                the import's when both have the store's fixed time
 * @param source  the directory the link points to (the store path)
 */
public record BuildInfo(String version, Instant built, String source) {

    /** nixpkgs names a system {@code <hash>-nixos-system-<host>-<version>}; the version starts with a digit. */
    private static final Pattern SYSTEM_VERSION =
            Pattern.compile("^/nix/store/[0-9a-z]{32}-nixos-system-.*?-([0-9][0-9A-Za-z._+-]*)/init$");
    /** The Nix store sets every file's time to 1 s after the epoch: no build date there. */
    private static final Instant MEANINGFUL = Instant.parse("1980-01-02T00:00:00Z");

    public static BuildInfo of(Path given, String init, Instant now) throws IOException {
        Matcher m = SYSTEM_VERSION.matcher(init);
        String version = m.matches() ? m.group(1) : "";
        Path real = given.toRealPath();
        Instant built = now;
        Instant link = Files.getLastModifiedTime(given, LinkOption.NOFOLLOW_LINKS).toInstant();
        Instant dir = Files.getLastModifiedTime(real).toInstant();
        if (link.isAfter(MEANINGFUL)) {
            built = link;
        } else if (dir.isAfter(MEANINGFUL)) {
            built = dir;
        }
        return new BuildInfo(version, built.isAfter(now) ? now : built, real.toString());
    }
}
