/**
 * Small stream helpers shared by the decoders (image import, squashfs, cpio): nothing here knows a format.
 */
package dev.pivot.io;
