#!/usr/bin/env bash
# Unpacks the UEFI x86-64 Secure Boot chain from Debian's packages into the cache with apt-get download +
# dpkg-deb -x, never installing them (grub-efi-amd64-signed's scripts would touch the host's own boot): shim-signed
# (shimx64.efi, signed by Microsoft's UEFI CA) and grub-efi-amd64-signed (grubnetx64.efi, the network GRUB signed by
# Debian). `pivot serve` finds them there (or where the installed packages put them) and prints the tree.
#
# With --arm64 also what ARM64 machines need, unpacked into a tree of their own (loaders/arm64): busybox-static:arm64
# (the static busybox of an arm64 image's stage-1 prelude) and grub-efi-arm64-bin:arm64 (GRUB's arm64-efi modules,
# from which `pivot serve` builds the GRUB it gives ARM64 machines with the host's grub-mkimage). apt must know the
# arm64 architecture: it is added (dpkg --add-architecture arm64 + apt-get update) when it is not.
#
# Usage: scripts/fetch-boot-loaders.sh [--arm64]
# Downloads are cached in ${PIVOT_CACHE:-/var/cache/pivot}; `pivot serve` looks in /var/cache/pivot/loaders/root
# (and /var/cache/pivot/loaders/arm64). The last line printed is the amd64 tree.
set -euo pipefail

die() { echo "fetch-boot-loaders: $*" >&2; exit 1; }
# PACKAGE:ARCH:TREE (TREE under $CACHE/loaders)
PACKAGES=(shim-signed:amd64:root grub-efi-amd64-signed:amd64:root)
case "${1:-}" in
  "") ;;
  --arm64) PACKAGES+=(busybox-static:arm64:arm64 grub-efi-arm64-bin:arm64:arm64) ;;
  *) die "unknown option '$1' (usage: $0 [--arm64])" ;;
esac
for tool in apt-get apt-cache dpkg-deb flock; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (Debian packages: apt, dpkg)"
done

CACHE="${PIVOT_CACHE:-/var/cache/pivot}"
mkdir -p "$CACHE/debs" "$CACHE/loaders"
exec 9>"$CACHE/.lock"
flock 9

if [ "${1:-}" = --arm64 ]; then
  # shellcheck source=common.sh
  source "$(dirname "$0")/common.sh"
  pivot_foreign_arch arm64 || die "apt cannot download arm64 packages (above)"
fi
root="$CACHE/loaders/root"
for entry in "${PACKAGES[@]}"; do
  IFS=: read -r name arch tree <<<"$entry"
  pkg="$name:$arch"
  version="$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [ -z "$version" ] || [ "$version" = "(none)" ]; then
    apt-get update -qq >&2 || true
    version="$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  fi
  [ -n "$version" ] && [ "$version" != "(none)" ] || die "$pkg: not known to apt (is Debian 12 main in sources.list?)"
  # amd64 stamps keep their old names, so a cache filled before --arm64 existed is reused.
  stamp="$CACHE/loaders/$name$([ "$arch" = amd64 ] || echo ":$arch").version"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    continue
  fi
  deb="$CACHE/debs/${name}_${version//:/%3a}_$arch.deb"
  if [ ! -f "$deb" ]; then
    tmp="$(mktemp -d "$CACHE/debs/.dl-XXXXXX")"
    # apt's sandbox user cannot write into a root-owned temp dir; the download is still verified by apt.
    chmod 755 "$tmp"
    (cd "$tmp" && apt-get download -q "$pkg=$version" >&2) || { rm -rf "$tmp"; die "$pkg: apt-get download failed"; }
    mv "$tmp"/*.deb "$deb"
    rm -rf "$tmp"
  fi
  mkdir -p "$CACHE/loaders/$tree"
  dpkg-deb -x "$deb" "$CACHE/loaders/$tree" || die "$pkg: dpkg-deb -x $deb failed"
  echo "$version" > "$stamp"
done
[ -f "$root/usr/lib/shim/shimx64.efi.signed" ] || die "shim-signed: no usr/lib/shim/shimx64.efi.signed in the package"
[ -f "$root/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" ] \
  || die "grub-efi-amd64-signed: no usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed in the package"
if [ "${1:-}" = --arm64 ]; then
  [ -f "$CACHE/loaders/arm64/bin/busybox" ] || die "busybox-static:arm64: no bin/busybox in the package"
  [ -f "$CACHE/loaders/arm64/usr/lib/grub/arm64-efi/http.mod" ] \
    || die "grub-efi-arm64-bin:arm64: no usr/lib/grub/arm64-efi/http.mod in the package"
  echo "$CACHE/loaders/arm64"
fi
echo "$root"
