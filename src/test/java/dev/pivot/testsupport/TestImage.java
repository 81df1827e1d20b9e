package dev.pivot.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A small NixOS-shaped netboot build made with the real tools (cpio, gzip, mksquashfs), for tests that start
 * Pivot as it ships: bzImage (not a real kernel, so serve it with skipCheck), an initrd whose second part holds
 * nix-store.squashfs, and nixpkgs' netboot.ipxe. {@code marker} makes each image's kernel (and so its sha256)
 * different.
 */
public final class TestImage {

    private TestImage() {
    }

    public static Path nixos(Path work, String marker) throws IOException, InterruptedException {
        return nixos(work, marker, 0);
    }

    /**
     * With {@code randomMiB} MiB of incompressible bytes in the root image's store (/nix/store/…-random/data,
     * stored uncompressed), for tests that read a root image of some size block by block.
     */
    public static Path nixos(Path work, String marker, int randomMiB) throws IOException, InterruptedException {
        Tools.require("mksquashfs", "squashfs-tools");
        Tools.require("cpio", "cpio");
        Path dir = work.resolve("image-" + marker);
        if (Files.exists(dir.resolve("netboot.ipxe"))) {
            return dir; // made before in this work directory
        }
        Files.createDirectories(dir);
        Path build = Files.createDirectories(work.resolve("build-" + marker));
        Files.writeString(dir.resolve("bzImage"), "not a kernel: " + marker + "\n".repeat(64), StandardCharsets.UTF_8);
        String system = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-" + marker;
        Tools.sh(build, "mkdir -p stage1 root" + system + " && printf '#!/bin/sh\\n' > stage1/init && chmod 755 stage1/init"
                + " && printf '#!/bin/sh\\necho " + marker + "\\n' > root" + system + "/init && chmod 755 root" + system + "/init"
                + " && (cd stage1 && find . | cpio -o -H newc --quiet | gzip -1) > initrd"
                + (randomMiB > 0 ? " && mkdir -p root/nix/store/0123456789abcdfghijklmnpqrsvwxyz-random"
                        + " && head -c " + ((long) randomMiB << 20) + " /dev/urandom"
                        + " > root/nix/store/0123456789abcdfghijklmnpqrsvwxyz-random/data" : "")
                + " && mksquashfs root/nix/store nix-store.squashfs -quiet -noappend -comp gzip" + (randomMiB > 0 ? " -noD" : "") + " >/dev/null"
                + " && echo nix-store.squashfs | cpio -o -H newc --quiet | gzip -1 >> initrd");
        Files.copy(build.resolve("initrd"), dir.resolve("initrd"));
        Files.writeString(dir.resolve("netboot.ipxe"), """
                #!ipxe
                # Use the cmdline variable to allow the user to specify custom kernel params
                # when chainloading this script from other iPXE scripts like netboot.xyz
                kernel bzImage init=%s/init initrd=initrd loglevel=4 ${cmdline}
                initrd initrd
                boot
                """.formatted(system));
        return dir;
    }
}
