package dev.pivot.boot;

import java.time.Instant;
import java.util.List;

/**
 * What one request for a machine's boot script gets: the spec to boot, which profile and generation it is, and
 * the profile's boot menu (empty: boot directly).
 *
 * @param generation         0 when the catalog does not number generations
 * @param menu               the profile's generations, newest first, for a menu before booting
 * @param menuTimeoutSeconds how long the menu waits for a key before booting the default
 */
public record BootPlan(BootSpec spec, String profile, int generation, List<MenuEntry> menu, int menuTimeoutSeconds) {

    /** One line of the boot menu. */
    public record MenuEntry(int generation, String version, Instant built, boolean isDefault) {
    }

    public BootPlan {
        menu = List.copyOf(menu);
    }

    public static BootPlan direct(BootSpec spec) {
        return new BootPlan(spec, "", 0, List.of(), 0);
    }

    public boolean showsMenu() {
        return menu.size() > 1 && menuTimeoutSeconds > 0;
    }
}
