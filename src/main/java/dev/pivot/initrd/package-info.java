/**
 * Pivot's stage-1 initramfs: the prelude (pivot.cpio.gz: static busybox, /pivot/init, the udhcpc script,
 * /dev/console) and the native-root cpio.
 */
package dev.pivot.initrd;
