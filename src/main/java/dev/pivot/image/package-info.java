/**
 * Importing NixOS netboot builds: parse netboot.ipxe, split the initrd into its stage-1 part and the
 * nix-store.squashfs root image (exact segment ends for gzip, xz, zstd and plain cpio), and keep everything in a
 * content-addressed {@link dev.pivot.artifacts.ArtifactStore}; and {@link dev.pivot.image.ImageCheck}: look inside the
 * stage-1 initrd and the squashfs root image (with {@link dev.pivot.format.squashfs.SquashfsImage}) before anything
 * boots, and say in plain words what is missing and where to add it. Imports {@link dev.pivot.boot},
 * {@link dev.pivot.artifacts}, {@link dev.pivot.format} and {@link dev.pivot.stage1}.
 */
package dev.pivot.image;
