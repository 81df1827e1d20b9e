package dev.pivot.image;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether an image can boot with its root image over NBD (`pivot serve --root-transport nbd`): stage 1 needs the
 * nbd driver, squashfs and loop (NixOS mounts /nix-store.squashfs with -o loop), from the kernel, the initrd or the
 * root image's module tree (Pivot packs what only the root image has into the prelude). dm-mod and dm-verity let
 * stage 1 check every block it reads against the root hash on the kernel command line; without them it boots
 * unchecked and says so.
 *
 * <p>Where no module tree was read (the kernel's release could not be told, or no tree was found for it), nobody
 * can say: every module is {@link #UNKNOWN}, the image is not known to lack what NBD needs, and NBD is served as
 * the operator asked; stage 1 uses dm-verity only if the kernel has it.
 *
 * @param modules     module → where stage 1 finds it: "built in", "initrd", "root image", "missing" or "unknown"
 * @param bootsOverNbd none of nbd, squashfs and loop is known to be missing
 * @param verity      dm-mod and dm-verity are both known to be there and the image is whole 4096-byte blocks
 */
public record NbdReadiness(Map<String, String> modules, boolean bootsOverNbd, boolean verity, List<String> notes) {

    public static final List<String> NEEDED = List.of("nbd", "squashfs", "loop");
    public static final List<String> VERITY = List.of("dm_mod", "dm_verity");
    /** Where a module stage 1 needs is not. */
    public static final String MISSING = "missing";
    /** Where a module is when no module tree was read. */
    public static final String UNKNOWN = "unknown";

    public NbdReadiness {
        modules = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(modules));
        notes = List.copyOf(notes);
    }

    /**
     * @param rootImageSize the root image's bytes: dm-verity covers whole 4096-byte blocks, so an image that is not
     *                      a whole number of them (mksquashfs pads to 4 KiB unless told -nopad) gets no hash tree
     */
    public static NbdReadiness of(ImageCheckResult check, long rootImageSize) {
        Map<String, String> where = new LinkedHashMap<>();
        for (String m : concat(NEEDED, VERITY)) {
            where.put(m, place(m, check.initrdModules(), check.storeModules()));
        }
        boolean boots = NEEDED.stream().noneMatch(m -> where.get(m).equals(MISSING));
        boolean modulesForVerity = VERITY.stream().allMatch(m -> isThere(where.get(m)));
        boolean wholeBlocks = rootImageSize % 4096 == 0;
        boolean verity = modulesForVerity && wholeBlocks;
        List<String> notes = new ArrayList<>();
        if (!wholeBlocks) {
            notes.add("the root image is " + rootImageSize + " bytes, not a whole number of 4096-byte blocks: Pivot"
                    + " builds no dm-verity hash tree for it (make it with mksquashfs's default padding)");
        }
        NEEDED.stream().filter(m -> where.get(m).equals(MISSING)).forEach(m -> notes.add(m
                + " is neither built into the kernel nor in the initrd or the root image: stage 1 cannot "
                + (m.equals("nbd") ? "attach the root image over NBD" : "mount the root image")));
        if (!known(where)) {
            notes.add("no module tree was read (the kernel's release could not be told, or the initrd and the root"
                    + " image have no modules for it): whether stage 1 has nbd, squashfs and loop cannot be told;"
                    + " Pivot serves the root image over NBD as asked");
        }
        notes.add(verity ? "stage 1 checks every block read over NBD with dm-verity (the hash tree is built when"
                + " the image is first served)" : "without dm-verity, blocks read over NBD are not checked: TCP's"
                + " checksum and the server's content-addressed store are all that vouch for them, and stage 1 says"
                + " so when it boots");
        return new NbdReadiness(where, boots, verity, notes);
    }

    /** Whether every module's place is known: some module tree was read. */
    public boolean known() {
        return known(modules);
    }

    private static boolean known(Map<String, String> where) {
        return !where.containsValue(UNKNOWN);
    }

    private static boolean isThere(String place) {
        return !place.equals(MISSING) && !place.equals(UNKNOWN);
    }

    private static String place(String module, ModuleTree initrd, ModuleTree store) {
        if (initrd == null && store == null) {
            return UNKNOWN;
        }
        for (ModuleTree t : new ModuleTree[] {initrd, store}) {
            if (t != null && t.isBuiltin(module)) {
                return "built in";
            }
        }
        if (initrd != null && initrd.has(module)) {
            return "initrd";
        }
        if (store != null && store.has(module)) {
            return "root image";
        }
        return MISSING;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
