package dev.pivot.boot;

import java.time.Instant;

/**
 * One build of a profile, as NixOS numbers its system generations: every new build of a profile's image becomes
 * its next generation; earlier ones stay bootable until pruned.
 *
 * @param number   1, 2, 3 … per profile, never reused
 * @param spec     what the generation boots (the image's own spec, before a profile's extra parameters)
 * @param version  the NixOS version its system path names ("24.11.20241201.abcdef"), or "" when it names none
 * @param built    when the build was made (its result link's time), else when it was imported
 * @param imported when Pivot imported it
 * @param source   the directory it was imported from (the store path a result link pointed to)
 */
public record Generation(int number, BootSpec spec, String version, Instant built, Instant imported, String source) {

    public Generation {
        if (number < 1) {
            throw new IllegalArgumentException("generation number " + number + ": must be 1 or more");
        }
    }
}
