/**
 * Importing NixOS netboot builds: parse netboot.ipxe, split the initrd into its stage-1 part and the
 * nix-store.squashfs root image (exact segment ends for gzip, xz, zstd and plain cpio), and keep everything in a
 * content-addressed {@link dev.pivot.image.ArtifactStore}.
 */
package dev.pivot.image;
