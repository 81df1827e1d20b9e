/**
 * What `pivot demo` (and the end-to-end tests) need to boot a VM from Pivot on this machine: private network
 * namespaces with a bridge and tap, QEMU, a NixOS-shaped demo image and `pivot serve` as a child process. Imports
 * nothing of Pivot's serving code: it drives `pivot serve` from outside, as a user would.
 */
package dev.pivot.demo;
