/**
 * A read-only squashfs 4.0 reader (gzip, xz and zstd compression), enough to look inside a NixOS root image
 * before it boots: find {@code init=}, the kernel modules, and read small files. It reads with positional reads
 * and never holds the image in memory; every size read from the image is checked against the file before
 * anything is allocated, so a truncated or corrupt image gives one {@link dev.pivot.format.squashfs.SquashfsException}
 * naming the file and the problem.
 *
 * <p>Format: the kernel's Documentation/filesystems/squashfs.rst and squashfs_fs.h. Imports only
 * {@link dev.pivot.format}.
 */
package dev.pivot.format.squashfs;
