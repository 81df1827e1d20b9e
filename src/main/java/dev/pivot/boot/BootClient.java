package dev.pivot.boot;

/**
 * What a protocol server learned about a machine asking to boot.
 *
 * @param mac      the hardware address
 * @param firmware from option 93 / vendor class
 * @param ipxe     true when the client is already iPXE (option 175 present or user class "iPXE")
 */
public record BootClient(MacAddress mac, Firmware firmware, boolean ipxe) {
}
