# Sourced by ./pivot and ./test: finds JDK 25 and installs missing Debian packages.
# shellcheck shell=bash

PIVOT_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

pivot_java_home() {
  local candidates=("${PIVOT_JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk /usr/lib/jvm/java-25-openjdk-amd64)
  local c
  for c in "${candidates[@]}"; do
    if [ -n "$c" ] && [ -x "$c/bin/java" ] && "$c/bin/java" -version 2>&1 | grep -q 'version "25'; then
      echo "$c"; return 0
    fi
  done
  echo "pivot: JDK 25 not found (looked in ${candidates[*]}); install Temurin 25 or set PIVOT_JAVA_HOME" >&2
  return 1
}

# Installs each named Debian package that is not installed yet. Never starts a service: a policy-rc.d
# refuses service starts for the duration (tftpd-hpa and nginx would otherwise bind the host's ports).
pivot_apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "pivot: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    return 1
  fi
  echo "pivot: installing ${missing[*]}" >&2
  local had_policy=0
  [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  if [ $had_policy = 0 ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 || rc=$?
  [ $had_policy = 0 ] && rm -f /usr/sbin/policy-rc.d
  return $rc
}

# Lets apt download packages of another architecture (arm64: the ARM64 test image's kernel and busybox, GRUB's arm64
# modules), which are only ever unpacked with dpkg-deb -x, never installed. Adds the architecture once and updates
# the package lists; a no-op when it is there already.
pivot_foreign_arch() {
  local arch="$1"
  [ "$(dpkg --print-architecture)" = "$arch" ] && return 0
  dpkg --print-foreign-architectures | grep -qx "$arch" && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "pivot: apt does not know the architecture $arch (run as root: dpkg --add-architecture $arch && apt-get update)" >&2
    return 1
  fi
  echo "pivot: adding the package architecture $arch (dpkg --add-architecture $arch; nothing of it is installed)" >&2
  dpkg --add-architecture "$arch" && apt-get update -qq >&2
}

# What the demo and the end-to-end tests need on the host.
# The JVM options ./pivot runs with (PIVOT_JAVA_OPTS replaces them) and the benchmarks measure. A small heap: the
# server streams every file, and the JVM default (1/4 of RAM) would show as RSS. A 10 ms pause goal: G1's default
# (200 ms) let young collections reach 70-200 ms under a DHCP storm, long enough for clients to count drops
# (bench/dhcp-vs-peers.sh at 5000/s: drops 0.26-1 % with the default, 0.01 % with it). GCTimeRatio=4 (G1's default
# is 12): G1 grows the heap when collections take more than 1/(1+ratio) of the time, and on a busy host a flood of
# short requests (bench/abuse.sh's report flood) made it grow to the limit for a live set of a few tens of MB; it
# may now spend up to 20 % of the time collecting first. The same options are in nix/package.nix and, through
# scripts/build-deb.sh, the Debian package's launcher.
PIVOT_DEFAULT_JAVA_OPTS="-Xms32m -Xmx256m -XX:MaxGCPauseMillis=10 -XX:GCTimeRatio=4"

PIVOT_BOOT_PACKAGES=(qemu-system-x86 ipxe-qemu ipxe ovmf busybox-static nbd-client squashfs-tools cpio kmod iproute2
  dnsmasq-base curl zstd xz-utils gzip ca-certificates dmsetup qemu-utils grub-common)
# What the tests add: real peers (DHCP clients, TFTP clients, socat relays, nftables for packet loss, tftpd-hpa as
# the yardstick under loss), the compressors the initrd tests read, chromium for the web page, postgresql for the
# shared store, procps for sysctl and kill, nix-bin to evaluate the NixOS module, help2man (the man page),
# systemd (systemd-analyze verify) and man-db for the Debian package's test, kea-admin for perfdhcp (two servers
# sharing leases under load), qemu-system-arm and qemu-efi-aarch64 (AAVMF) for the ARM64 boot. Every test fails
# when what it needs is missing, so all are here. (kea-dhcp4 is the DHCP benchmark's, not the tests'.) grub-common
# has grub-mkimage, which builds the arm64 GRUB that `pivot serve` gives ARM64 machines.
PIVOT_TEST_PACKAGES=("${PIVOT_BOOT_PACKAGES[@]}" socat isc-dhcp-client dhcpcd-base atftp tftp-hpa nftables
  bzip2 lz4 chromium postgresql tftpd-hpa procps util-linux bsdutils nix-bin help2man systemd man-db libnbd-bin
  cryptsetup-bin kea-admin qemu-system-arm qemu-efi-aarch64)

# Builds the CLI when a source is newer than the last build.
pivot_build_if_needed() {
  local stamp="$PIVOT_HOME/target/classpath.txt"
  if [ ! -f "$stamp" ] || [ -n "$(find "$PIVOT_HOME/src/main" "$PIVOT_HOME/pom.xml" -newer "$stamp" -print -quit)" ]; then
    echo "pivot: building…" >&2
    (cd "$PIVOT_HOME" && ./mvnw -q -B -DskipTests package >&2) || return 1
    touch "$stamp" # Maven leaves an unchanged class path file alone: without this every start would rebuild
  fi
}
