/**
 * The newc cpio codec the kernel unpacks into an initramfs: a streaming reader (one archive, or a whole
 * decompressed stream the way the kernel reads it) and a writer. Imports only {@link dev.pivot.format}.
 */
package dev.pivot.format.cpio;
