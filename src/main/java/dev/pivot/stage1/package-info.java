/**
 * Pivot's stage 1: the contract between the loaders and the prelude ({@link dev.pivot.stage1.Stage1Contract}: every
 * {@code pivot.*} kernel parameter, {@code rdinit=}, the prelude's paths, the reported steps), the prelude builder
 * (pivot.cpio.gz: static busybox, /pivot/init, the udhcpc script, /dev/console; its scripts are resources under
 * {@code dev/pivot/stage1/prelude/}) and native mode's root-image cpio. Imports {@link dev.pivot.boot},
 * {@link dev.pivot.artifacts} and {@link dev.pivot.format}.
 */
package dev.pivot.stage1;
