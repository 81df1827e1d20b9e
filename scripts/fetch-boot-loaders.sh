#!/usr/bin/env bash
# Unpacks the UEFI x86-64 Secure Boot chain from Debian's packages into the cache with apt-get download +
# dpkg-deb -x, never installing them (grub-efi-amd64-signed's scripts would touch the host's own boot): shim-signed
# (shimx64.efi, signed by Microsoft's UEFI CA) and grub-efi-amd64-signed (grubnetx64.efi, the network GRUB signed by
# Debian). `pivot serve` finds them there (or where the installed packages put them) and prints the tree.
#
# GRUB is taken twice: Debian 12's (2.06) from the system's apt, and Debian 13 (trixie)'s (2.12, same Debian key,
# which Debian 12's shim trusts) into a tree of its own (loaders/trixie). Only GRUB 2.12 reads the ProxyDHCP offer the
# firmware kept, so only it finds Pivot under `--dhcp proxy` (the default). Trixie's package comes through a private
# apt configuration under the cache (its own sources.list, lists and cache; the system's apt sources are not touched),
# checked by apt against Debian's archive key from debian-archive-keyring. PIVOT_DEBIAN_MIRROR sets the mirror.
#
# With --arm64 also what ARM64 machines need, unpacked into a tree of their own (loaders/arm64): busybox-static:arm64
# (the static busybox of an arm64 image's stage-1 prelude) and grub-efi-arm64-bin:arm64 (GRUB's arm64-efi modules,
# from which `pivot serve` builds the GRUB it gives ARM64 machines with the host's grub-mkimage). apt must know the
# arm64 architecture: it is added (dpkg --add-architecture arm64 + apt-get update) when it is not.
#
# Usage: scripts/fetch-boot-loaders.sh [--arm64]
# Downloads are cached in ${PIVOT_CACHE:-/var/cache/pivot}; `pivot serve` looks in /var/cache/pivot/loaders/root,
# /var/cache/pivot/loaders/trixie (and /var/cache/pivot/loaders/arm64). The last line printed is the amd64 tree.
set -euo pipefail

die() { echo "fetch-boot-loaders: $*" >&2; exit 1; }
# PACKAGE:ARCH:TREE[:SUITE] (TREE under $CACHE/loaders; without SUITE from the system's apt sources)
PACKAGES=(shim-signed:amd64:root grub-efi-amd64-signed:amd64:root grub-efi-amd64-signed:amd64:trixie:trixie)
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
# apt for one other Debian suite: sources, lists and cache of its own under $CACHE/apt-SUITE, nothing of the system's
# apt configuration changed. Its index is refreshed when older than a day.
suite_apt() {
  local suite="$1" dir="$CACHE/apt-$1" keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -f "$keyring" ] || die "$keyring is missing (Debian package debian-archive-keyring)"
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb [signed-by=$keyring] ${PIVOT_DEBIAN_MIRROR:-http://deb.debian.org/debian} $suite main" > "$dir/sources.list"
  SUITE_APT=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o APT::Architectures=amd64
    -o Acquire::Languages=none)
  if [ -z "$(find "$dir/lists" -maxdepth 1 -name '*_InRelease' -mtime -1 2>/dev/null)" ] \
    && ! apt-get "${SUITE_APT[@]}" update --error-on=any -qq >&2; then
    # An older index still names a version, whose .deb may be in the cache already.
    [ -n "$(find "$dir/lists" -maxdepth 1 -name '*_InRelease' 2>/dev/null)" ] \
      || die "apt cannot read Debian's $suite suite (above; needs the network and debian-archive-keyring with" \
        "Debian 13's key: debian-archive-keyring 2023.3+deb12u1 or later)"
    echo "fetch-boot-loaders: could not refresh Debian's $suite index (above); using the one from before" >&2
  fi
}

root="$CACHE/loaders/root"
for entry in "${PACKAGES[@]}"; do
  IFS=: read -r name arch tree suite <<<"$entry"
  pkg="$name:$arch"
  SUITE_APT=()
  [ -z "$suite" ] || suite_apt "$suite"
  version="$(apt-cache "${SUITE_APT[@]}" policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [ -z "$suite" ] && { [ -z "$version" ] || [ "$version" = "(none)" ]; }; then
    apt-get update -qq >&2 || true
    version="$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')"
  fi
  [ -n "$version" ] && [ "$version" != "(none)" ] \
    || die "$pkg: not known to apt (is Debian ${suite:-12} main in ${suite:+$CACHE/apt-$suite/}sources.list?)"
  # amd64 stamps keep their old names, so a cache filled before --arm64 existed is reused.
  stamp="$CACHE/loaders/$name$([ "$arch" = amd64 ] || echo ":$arch")${suite:+@$suite}.version"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    continue
  fi
  deb="$CACHE/debs/${name}_${version//:/%3a}_$arch.deb"
  if [ ! -f "$deb" ]; then
    tmp="$(mktemp -d "$CACHE/debs/.dl-XXXXXX")"
    # apt's sandbox user cannot write into a root-owned temp dir; the download is still verified by apt.
    chmod 755 "$tmp"
    (cd "$tmp" && apt-get "${SUITE_APT[@]}" download -q "$pkg=$version" >&2) || { rm -rf "$tmp"; die "$pkg: apt-get download failed"; }
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
[ -f "$CACHE/loaders/trixie/usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed" ] \
  || die "grub-efi-amd64-signed (Debian 13 trixie): no usr/lib/grub/x86_64-efi-signed/grubnetx64.efi.signed in the package"
if [ "${1:-}" = --arm64 ]; then
  [ -f "$CACHE/loaders/arm64/bin/busybox" ] || die "busybox-static:arm64: no bin/busybox in the package"
  [ -f "$CACHE/loaders/arm64/usr/lib/grub/arm64-efi/http.mod" ] \
    || die "grub-efi-arm64-bin:arm64: no usr/lib/grub/arm64-efi/http.mod in the package"
  echo "$CACHE/loaders/arm64"
fi
echo "$root"
