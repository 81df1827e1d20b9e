#!/usr/bin/env bash
# Fetches Debian's installer netboot files (package debian-installer-12-netboot-amd64: the text installer's
# `linux` and `initrd.gz`) into the cache with apt-get download + dpkg-deb -x, never installing the package, and
# prints the directory that holds them. The end-to-end test of `pivot serve --kernel --initrd` boots them.
#
# Usage: scripts/fetch-debian-installer.sh
# Downloads are cached in ${PIVOT_CACHE:-/var/cache/pivot}.
set -euo pipefail

PACKAGE=debian-installer-12-netboot-amd64
die() { echo "fetch-debian-installer: $PACKAGE: $*" >&2; exit 1; }
for tool in apt-get apt-cache dpkg-deb flock; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (Debian packages: apt, dpkg)"
done

CACHE="${PIVOT_CACHE:-/var/cache/pivot}"
mkdir -p "$CACHE/debs"
exec 9>"$CACHE/.lock"
flock 9

version="$(apt-cache policy "$PACKAGE" 2>/dev/null | awk '/Candidate:/ {print $2}')"
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  apt-get update -qq >&2 || true
  version="$(apt-cache policy "$PACKAGE" 2>/dev/null | awk '/Candidate:/ {print $2}')"
fi
[ -n "$version" ] && [ "$version" != "(none)" ] || die "not known to apt (is Debian 12 main in sources.list? apt-get update?)"

out="$CACHE/$PACKAGE/$version"
files="$out/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64"
if [ ! -f "$files/linux" ] || [ ! -f "$files/initrd.gz" ]; then
  deb="$CACHE/debs/${PACKAGE}_${version//:/%3a}_all.deb"
  if [ ! -f "$deb" ]; then
    tmp="$(mktemp -d "$CACHE/debs/.dl-XXXXXX")"
    # apt's sandbox user cannot write into a root-owned temp dir; the download is still verified by apt.
    chmod 755 "$tmp"
    (cd "$tmp" && apt-get download -q "$PACKAGE=$version" >&2) || { rm -rf "$tmp"; die "apt-get download failed"; }
    mv "$tmp"/*.deb "$deb"
    rm -rf "$tmp"
  fi
  rm -rf "$out.partial"
  mkdir -p "$out.partial"
  dpkg-deb -x "$deb" "$out.partial" || { rm -rf "$out.partial"; die "dpkg-deb -x $deb failed"; }
  rm -rf "$out"
  mv "$out.partial" "$out"
fi
[ -f "$files/linux" ] && [ -f "$files/initrd.gz" ] || die "no linux and initrd.gz under $files in the package"
echo "$files"
