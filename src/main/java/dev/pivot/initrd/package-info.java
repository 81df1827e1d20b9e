/**
 * Initramfs building blocks: a streaming newc cpio writer and reader, and Pivot's stage-1 prelude
 * (pivot.cpio.gz: static busybox, /pivot/init, the udhcpc script, /dev/console).
 */
package dev.pivot.initrd;
