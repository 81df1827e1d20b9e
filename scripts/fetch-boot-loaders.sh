#!/usr/bin/env bash
# Unpacks the UEFI x86-64 Secure Boot chain from Debian's packages into the cache with apt-get download +
# dpkg-deb -x, never installing them (grub-efi-amd64-signed's scripts would touch the host's own boot): shim-signed
# (shimx64.efi, signed by Microsoft's UEFI CA) and grub-efi-amd64-signed (grubnetx64.efi, the network GRUB signed by
# Debian). `pivot serve` finds them there (or where the installed packages put them) and prints the tree.
#
# Usage: scripts/fetch-boot-loaders.sh
# Downloads are cached in ${PIVOT_CACHE:-/var/cache/pivot}; `pivot serve` looks in /var/cache/pivot/loaders/root.
set -euo pipefail

PACKAGES=(shim-signed grub-efi-amd64-signed)
die() { echo "fetch-boot-loaders: $*" >&2; exit 1; }
for tool in apt-get apt-cache dpkg-deb flock; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (Debian packages: apt, dpkg)"
done

CACHE="${PIVOT_CACHE:-/var/cache/pivot}"
mkdir -p "$CACHE/debs" "$CACHE/loaders"
exec 9>"$CACHE/.lock"
flock 9

root="$CACHE/loaders/root"
for pkg in "${PACKAGES[@]}"; do
  version="$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    apt-get update -qq >&2 || true
    version="$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  fi
  [ -n "$version" ] && [ "$version" != "(none)" ] || die "$pkg: not known to apt (is Debian 12 main in sources.list?)"
  stamp="$CACHE/loaders/$pkg.version"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    continue
  fi
  deb="$CACHE/debs/${pkg}_${version//:/%3a}_amd64.deb"
  if [ ! -f "$deb" ]; then
    tmp="$(mktemp -d "$CACHE/debs/.dl-XXXXXX")"
    # apt's sandbox user cannot write into a root-owned temp dir; the download is still verified by apt.
    chmod 755 "$tmp"
    (cd "$tmp" && apt-get download -q "$pkg=$version" >&2) || { rm -rf "$tmp"; die "$pkg: apt-get download failed"; }
    mv "$tmp"/*.deb "$deb"
    rm -rf "$tmp"
  fi
  mkdir -p "$root"
  dpkg-deb -x "$deb" "$root" || die "$pkg: dpkg-deb -x $deb failed"
  echo "$version" > "$stamp"
done
[ -f "$root/usr/lib/shim/shimx64.efi.signed" ] || die "shim-signed: no usr/lib/shim/shimx64.efi.signed in the package"
[ -f "$root/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" ] \
  || die "grub-efi-amd64-signed: no usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed in the package"
echo "$root"
