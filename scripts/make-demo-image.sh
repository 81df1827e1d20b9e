#!/usr/bin/env bash
# Builds a NixOS-shaped netboot image (bzImage, initrd, netboot.ipxe) from Debian packages, because real NixOS
# cannot be built here. The layout copies nixpkgs' netboot.nix: the initrd is a stage-1 cpio followed by a
# second compressed cpio holding only /nix-store.squashfs, and stage 1 mounts tmpfs / squashfs / overlay exactly
# as NixOS does before switch_root into /nix/store/<hash>-nixos-system-demo-24.11/init.
#
# Usage: scripts/make-demo-image.sh [options] OUTDIR
#   --arch amd64|arm64             the image's architecture (env PIVOT_ARCH, default amd64). arm64: Debian's arm64
#                                  kernel (an uncompressed `Image`, as NixOS builds on aarch64) and busybox-static:arm64,
#                                  both unpacked, never installed; console ttyAMA0 (QEMU virt's PL011)
#   --squashfs-comp gzip|xz|zstd   squashfs compressor (env PIVOT_SQUASHFS_COMP, default zstd)
#   --store-comp zstd|xz           compressor of the second cpio (env PIVOT_STORE_COMP, default zstd like NixOS)
#   --no-nic-driver                leave virtio_net/e1000 out of the stage-1 modules (env PIVOT_NO_NIC_DRIVER=1)
#   --extra-mb N                   add an N MB incompressible filler file to the squashfs (env PIVOT_EXTRA_MB)
#   --xz-modules                   compress the stage-1 modules to .ko.xz, as NixOS ships them (env PIVOT_XZ_MODULES=1)
#   --store-modules                put <hash>-linux-KVER-modules/lib/modules/KVER (NIC, virtio, fs, nbd, dm-verity + depmod
#                                  indexes) into the squashfs, as a NixOS store has (the default; env
#                                  PIVOT_STORE_MODULES=1)
#   --no-store-modules             leave them out: a store whose system cannot load modules (env PIVOT_STORE_MODULES=0)
#   --marker TEXT                  stage 2 also prints "PIVOT-DEMO: build TEXT" (another system path, so another build)
#   --stage2-dhcp                  stage 2 takes its lease with DHCP (busybox udhcpc, a plain client, as NixOS's dhcpcd)
#                                  and prints "PIVOT-DEMO: stage 2 lease ADDRESS" instead of reporting stage 2
#                                  (env PIVOT_STAGE2_DHCP=1)
#   --parts DIR                    also write the pieces: stage1.cpio.gz, nix-store.squashfs, store.cpio.<comp>
#   --kernel-only                  only download and unpack the kernel into the cache (no OUTDIR): ./test does this
# Downloads are cached in ${PIVOT_CACHE:-/var/cache/pivot}. The kernel is never installed into the host's /boot.
set -euo pipefail

die() { echo "make-demo-image: $*" >&2; exit 1; }

SQUASHFS_COMP="${PIVOT_SQUASHFS_COMP:-zstd}"
STORE_COMP="${PIVOT_STORE_COMP:-zstd}"
NO_NIC_DRIVER="${PIVOT_NO_NIC_DRIVER:-0}"
EXTRA_MB="${PIVOT_EXTRA_MB:-0}"
XZ_MODULES="${PIVOT_XZ_MODULES:-0}"
# On by default: every NixOS store has its kernel's modules, and the image check warns about one without them.
STORE_MODULES="${PIVOT_STORE_MODULES:-1}"
PARTS_DIR=""
MARKER="${PIVOT_MARKER:-}"
STAGE2_DHCP="${PIVOT_STAGE2_DHCP:-0}"
OUTDIR=""
KERNEL_ONLY=0
ARCH="${PIVOT_ARCH:-amd64}"
while [ $# -gt 0 ]; do
  case "$1" in
    --squashfs-comp) SQUASHFS_COMP="${2:?--squashfs-comp needs a value}"; shift 2 ;;
    --squashfs-comp=*) SQUASHFS_COMP="${1#*=}"; shift ;;
    --store-comp) STORE_COMP="${2:?--store-comp needs a value}"; shift 2 ;;
    --store-comp=*) STORE_COMP="${1#*=}"; shift ;;
    --no-nic-driver) NO_NIC_DRIVER=1; shift ;;
    --xz-modules) XZ_MODULES=1; shift ;;
    --store-modules) STORE_MODULES=1; shift ;;
    --no-store-modules) STORE_MODULES=0; shift ;;
    --extra-mb) EXTRA_MB="${2:?--extra-mb needs a value}"; shift 2 ;;
    --extra-mb=*) EXTRA_MB="${1#*=}"; shift ;;
    --marker) MARKER="${2:?--marker needs a text}"; shift 2 ;;
    --stage2-dhcp) STAGE2_DHCP=1; shift ;;
    --marker=*) MARKER="${1#*=}"; shift ;;
    --parts) PARTS_DIR="${2:?--parts needs a directory}"; shift 2 ;;
    --parts=*) PARTS_DIR="${1#*=}"; shift ;;
    --kernel-only) KERNEL_ONLY=1; shift ;;
    --arch) ARCH="${2:?--arch needs amd64 or arm64}"; shift 2 ;;
    --arch=*) ARCH="${1#*=}"; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [ -z "$OUTDIR" ] || die "only one OUTDIR may be given (got '$OUTDIR' and '$1')"; OUTDIR="$1"; shift ;;
  esac
done
[ -n "$OUTDIR" ] || [ "$KERNEL_ONLY" = 1 ] || die "usage: $0 [options] OUTDIR"
case "$SQUASHFS_COMP" in gzip|xz|zstd) ;; *) die "--squashfs-comp must be gzip, xz or zstd, not '$SQUASHFS_COMP'" ;; esac
case "$STORE_COMP" in zstd|xz) ;; *) die "--store-comp must be zstd or xz, not '$STORE_COMP'" ;; esac
[[ "$MARKER" =~ ^[A-Za-z0-9._-]*$ ]] || die "--marker must be letters, digits, '.', '_' or '-', not '$MARKER'"
[[ "$EXTRA_MB" =~ ^[0-9]+$ ]] || die "--extra-mb must be a whole number of MB, not '$EXTRA_MB'"
for tool in apt-get dpkg-deb depmod modprobe mksquashfs cpio gzip zstd xz flock; do
  command -v "$tool" >/dev/null || die "'$tool' is missing (Debian packages: kmod squashfs-tools cpio zstd xz-utils)"
done
CACHE="${PIVOT_CACHE:-/var/cache/pivot}"
case "$ARCH" in
  amd64) BUSYBOX=/bin/busybox; CONSOLE=ttyS0; KERNEL_NAME=bzImage; APT_ARCH="" ;;
  arm64)
    # busybox-static:arm64 unpacked by fetch-boot-loaders.sh (before the cache lock below, which it takes too).
    BUSYBOX="$CACHE/loaders/arm64/bin/busybox"
    [ -f "$BUSYBOX" ] || "$(dirname "$0")/fetch-boot-loaders.sh" --arm64 >/dev/null \
      || die "cannot get busybox-static:arm64 (scripts/fetch-boot-loaders.sh --arm64 failed)"
    CONSOLE=ttyAMA0; KERNEL_NAME=Image; APT_ARCH=":arm64" ;;
  *) die "--arch must be amd64 or arm64, not '$ARCH'" ;;
esac
[ -f "$BUSYBOX" ] || die "$BUSYBOX missing (Debian busybox-static${APT_ARCH})"

mkdir -p "$CACHE"
# Several builds (demo, tests, other checkouts) may share the cache: one at a time downloads and unpacks.
exec 9>"$CACHE/.lock"
flock 9

# Reproducible archives: the same inputs give the same bytes, so the image's sha256 is stable between runs.
export SOURCE_DATE_EPOCH=1700000000
export TZ=UTC LC_ALL=C

# ---- kernel: the package linux-image-ARCH depends on, unpacked in the cache --------------------------------
kernel_package() {
  local p
  p="$(apt-cache depends "linux-image-$ARCH$APT_ARCH" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
  if [ -z "$p" ]; then
    apt-get update -qq >&2 || true
    p="$(apt-cache depends "linux-image-$ARCH$APT_ARCH" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
  fi
  [ -n "$p" ] || die "cannot tell which kernel package linux-image-$ARCH$APT_ARCH depends on (apt-get update?)"
  echo "${p%:*}"
}
KPKG="${PIVOT_KERNEL_PACKAGE:-}"
if [ -z "$KPKG" ]; then
  # Reuse an unpacked kernel when there is one: the demo must not need the registry on every run.
  KPKG="$(ls -1d "$CACHE"/kernel/linux-image-*-"$ARCH"/.done 2>/dev/null | sed 's#.*/kernel/\(linux-image-[^/]*\)/.done#\1#' | sort -V | tail -1 || true)"
  [ -n "$KPKG" ] || KPKG="$(kernel_package)"
fi
KROOT="$CACHE/kernel/$KPKG"
if [ ! -e "$KROOT/.done" ]; then
  mkdir -p "$CACHE/debs"
  deb="$(ls -1 "$CACHE/debs/${KPKG}_"*.deb 2>/dev/null | tail -1 || true)"
  if [ -z "$deb" ]; then
    echo "make-demo-image: downloading $KPKG" >&2
    (cd "$CACHE/debs" && apt-get download "$KPKG$APT_ARCH" >&2) || { apt-get update -qq >&2; (cd "$CACHE/debs" && apt-get download "$KPKG$APT_ARCH" >&2); }
    deb="$(ls -1 "$CACHE/debs/${KPKG}_"*.deb | tail -1)"
  fi
  rm -rf "$KROOT"; mkdir -p "$KROOT"
  dpkg-deb -x "$deb" "$KROOT"
  touch "$KROOT/.done"
fi
KVER="$(ls -1 "$KROOT/lib/modules" | head -1)"
[ -n "$KVER" ] || die "no /lib/modules/<kver> in $KROOT"
[ -f "$KROOT/lib/modules/$KVER/modules.dep" ] || depmod -b "$KROOT" "$KVER"
[ -f "$KROOT/boot/vmlinuz-$KVER" ] || die "no kernel image in $KROOT/boot"
if [ "$KERNEL_ONLY" = 1 ]; then
  echo "$KROOT"
  exit 0
fi

# ---- filler: incompressible, cached so the same N gives the same bytes (and sha256) every run --------------
if [ "$EXTRA_MB" -gt 0 ]; then
  FILLER="$CACHE/filler-${EXTRA_MB}MB.bin"
  if [ ! -f "$FILLER" ]; then
    head -c "$((EXTRA_MB * 1024 * 1024))" /dev/urandom > "$FILLER.tmp" && mv "$FILLER.tmp" "$FILLER"
  fi
fi
flock -u 9

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pivot-demo-image.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# A Nix-looking store hash: 32 characters of Nix's base-32 alphabet, derived from the name (stable).
nix_hash() {
  local alphabet=0123456789abcdfghijklmnpqrsvwxyz out="" b
  for b in $(printf '%s' "$1" | sha256sum | head -c 64 | fold -w2); do
    out+="${alphabet:$((16#$b % 32)):1}"
    [ ${#out} -eq 32 ] && break
  done
  echo "$out"
}
SYSTEM="$(nix_hash "pivot-demo-system-$([ "$ARCH" = amd64 ] || echo "$ARCH-")$SQUASHFS_COMP-$EXTRA_MB$([ "$STORE_MODULES" = 1 ] && echo -modules)$MARKER")-nixos-system-demo-24.11"
BBPATH="$(nix_hash pivot-demo-busybox-1.35.0)-busybox-1.35.0"

# ---- stage 2: the store, as a squashfs of store paths ------------------------------------------------------
STORE="$WORK/store"
mkdir -p "$STORE/$BBPATH/bin" "$STORE/$SYSTEM"
cp "$BUSYBOX" "$STORE/$BBPATH/bin/busybox"
ln -s busybox "$STORE/$BBPATH/bin/sh"
cat > "$STORE/$SYSTEM/init" <<EOF
#!/nix/store/$BBPATH/bin/sh
# Stand-in for NixOS stage 2: proves the store overlay is writable, prints the marker, reports, powers off.
bb=/nix/store/$BBPATH/bin/busybox
\$bb mkdir -p /tmp /etc
if \$bb sh -c 'echo ok > /nix/store/.pivot-write-test && \$0 rm /nix/store/.pivot-write-test' \$bb; then
  echo "PIVOT-DEMO: /nix/store is writable" > /dev/console
else
  echo "PIVOT-DEMO: /nix/store is not writable" > /dev/console
fi
$([ -n "$MARKER" ] && echo "echo \"PIVOT-DEMO: build $MARKER\" > /dev/console")
echo "PIVOT-DEMO: stage 2 reached" > /dev/console
$([ "$STAGE2_DHCP" = 1 ] && cat <<'DHCP'
# As a NixOS system with dhcpcd and nothing of Pivot's: its own lease, no stage-2 report.
for i in /sys/class/net/*; do [ "${i##*/}" = lo ] || { ifc="${i##*/}"; break; }; done
printf '#!%s sh
[ "$1" = bound ] && echo "PIVOT-DEMO: stage 2 lease $ip" > /dev/console
exit 0
' "$bb" > /tmp/lease.sh
$bb chmod 755 /tmp/lease.sh
$bb udhcpc -i "$ifc" -f -q -n -t 5 -T 2 -s /tmp/lease.sh >/dev/null 2>&1 || echo "PIVOT-DEMO: stage 2 got no lease" > /dev/console
$bb sync
$bb poweroff -f
DHCP
)
url=""; mac=""; token=""; fallback=""
set -f
for w in \$(\$bb cat /proc/cmdline); do
  case "\$w" in
    pivot.url=*) url="\${w#pivot.url=}" ;;
    pivot.fallback=*) fallback="\${w#pivot.fallback=}" ;;
    pivot.mac=*) mac="\${w#pivot.mac=}" ;;
    pivot.token=*) token="\${w#pivot.token=}" ;;
  esac
done
if [ -n "\$url" ] && [ -n "\$mac" ]; then
  # The other servers of pivot.fallback in turn when pivot.url's is gone.
  sent=""
  for u in \$url \$(echo "\$fallback" | \$bb tr ',' ' '); do
    \$bb timeout 5 \$bb wget -q -O- "\$u/report?mac=\$mac&token=\$token&step=stage2&status=ok&detail=demo" >/dev/null 2>&1 \
      && { sent=1; break; }
  done
  [ -n "\$sent" ] || echo "PIVOT-DEMO: stage 2 report failed" > /dev/console
fi
\$bb sync
\$bb poweroff -f
EOF
chmod 0755 "$STORE/$SYSTEM/init"
echo "/nix/store/$BBPATH" > "$STORE/$SYSTEM/closure"
echo "console=$CONSOLE loglevel=4" > "$STORE/$SYSTEM/kernel-params"
[ "$EXTRA_MB" -gt 0 ] && cp "$FILLER" "$STORE/$SYSTEM/filler.bin"
if [ "$STORE_MODULES" = 1 ]; then
  # A subset of the kernel's modules (the full Debian tree is ~400 MB): NICs, virtio, the file systems stage 1
  # uses, nbd and dm-verity (a root attached over NBD), with their dependencies and a depmod of their own, at the
  # path NixOS uses.
  KMODS="$STORE/$(nix_hash "pivot-demo-linux-$KVER-modules")-linux-$KVER-modules"
  for m in virtio_pci virtio_net e1000 e1000e igb r8169 vmxnet3 loop squashfs overlay nbd dm_verity; do
    modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
  done | sort -u | while read -r ko; do
    rel="${ko#"$KROOT"/}"
    mkdir -p "$KMODS/$(dirname "$rel")"
    cp "$ko" "$KMODS/$rel"
  done
  [ "$XZ_MODULES" = 1 ] && find "$KMODS/lib/modules" -name '*.ko' -exec xz --check=crc32 --lzma2=dict=1MiB {} +
  cp "$KROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$KMODS/lib/modules/$KVER/" 2>/dev/null || true
  depmod -b "$KMODS" "$KVER"
  ln -s "/nix/store/$(basename "$KMODS")" "$STORE/$SYSTEM/kernel-modules"  # absolute, as in NixOS
fi
mksquashfs "$STORE" "$WORK/nix-store.squashfs" -comp "$SQUASHFS_COMP" -all-root -no-xattrs \
  -quiet -no-progress >/dev/null

# ---- stage 1: busybox, the modules NixOS stage 1 would load, and /init --------------------------------------
S1="$WORK/stage1"
mkdir -p "$S1"/{bin,dev,proc,sys,run,mnt-root,etc,tmp} "$S1/lib/modules/$KVER"
cp "$BUSYBOX" "$S1/bin/busybox"
# The applet names from the host's busybox-static (the same Debian version): an arm64 one cannot run here.
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$S1/bin/$applet"
done
MODULES=(loop squashfs overlay)
[ "$NO_NIC_DRIVER" = 1 ] || MODULES+=(virtio_pci virtio_net e1000)
for m in "${MODULES[@]}"; do
  modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | sort -u | while read -r ko; do
  rel="${ko#"$KROOT"/}"
  mkdir -p "$S1/$(dirname "$rel")"
  cp "$ko" "$S1/$rel"
done
if [ "$XZ_MODULES" = 1 ]; then
  find "$S1/lib/modules" -name '*.ko' -exec xz --check=crc32 --lzma2=dict=1MiB {} +
fi
cp "$KROOT/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$S1/lib/modules/$KVER/" 2>/dev/null || true
depmod -b "$S1" "$KVER"

cat > "$S1/init" <<'EOF'
#!/bin/sh
# Stand-in for NixOS's scripted stage 1 (nixos/modules/system/boot/stage-1-init.sh), netboot case.
export PATH=/bin
fail() { echo "stage-1: FAILED: $*"; echo "stage-1: dropping to a shell"; exec sh; }
mkdir -p /proc /sys /dev /run /mnt-root
[ -e /proc/self ] || mount -t proc proc /proc
mounted() { grep -q "^[^ ]* $1 " /proc/mounts; }
mounted /sys || mount -t sysfs sysfs /sys
mounted /dev || mount -t devtmpfs devtmpfs /dev
mounted /run || mount -t tmpfs -o mode=0755 tmpfs /run
echo "<<< NixOS Stage 1 (Pivot demo stand-in) >>>"
kver="$(uname -r)"
load() {  # loads a module and what it depends on, like modprobe; fine when already loaded or built in
  modprobe "$1" 2>/dev/null && return 0
  local dep line
  line="$(grep -E "(^|/)$1\.ko(\.xz|\.zst)?:" "/lib/modules/$kver/modules.dep")" || return 1
  for dep in $(echo "${line#*:}" | tr ' ' '\n' | sed '1!G;h;$!d') "${line%%:*}"; do
    insmod "/lib/modules/$kver/$dep" 2>/dev/null || true
  done
  [ -d "/sys/module/$1" ]
}
for m in loop squashfs overlay; do load "$m" || fail "cannot load module $m"; done
init=""
set -f
for w in $(cat /proc/cmdline); do
  case "$w" in init=*) init="${w#init=}" ;; esac
done
set +f
[ -n "$init" ] || fail "no init= on the kernel command line"
# -e, as NixOS's stage 1 (waitDevice): over NBD, Pivot's prelude makes it the root device's node
[ -e /nix-store.squashfs ] || fail "/nix-store.squashfs is missing from the initramfs"
mount -t tmpfs -o mode=0755 tmpfs /mnt-root || fail "mount tmpfs /"
mkdir -p /mnt-root/nix/.ro-store /mnt-root/nix/.rw-store /mnt-root/nix/store
mount -t squashfs -o loop,ro /nix-store.squashfs /mnt-root/nix/.ro-store || fail "mount squashfs /nix/.ro-store"
mount -t tmpfs -o mode=0755 tmpfs /mnt-root/nix/.rw-store || fail "mount tmpfs /nix/.rw-store"
mkdir -p /mnt-root/nix/.rw-store/store /mnt-root/nix/.rw-store/work
mount -t overlay overlay \
  -o lowerdir=/mnt-root/nix/.ro-store,upperdir=/mnt-root/nix/.rw-store/store,workdir=/mnt-root/nix/.rw-store/work \
  /mnt-root/nix/store || fail "mount overlay /nix/store"
[ -e "/mnt-root$init" ] || fail "init $init not found in the store"
for d in dev proc sys run; do
  mkdir -p "/mnt-root/$d"
  mount --move "/$d" "/mnt-root/$d" || fail "move /$d"
done
exec switch_root /mnt-root "$init"
EOF
chmod 0755 "$S1/init"

# newc cpio, sorted names, fixed times, root-owned; /dev/console is added as a node (cpio can't without root
# privileges to mknod, so it is made only when we are root).
make_cpio() {  # DIR → newc cpio on stdout
  (cd "$1" && find . -mindepth 1 -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} + && find . -mindepth 1 | LC_ALL=C sort \
    | cpio -o -H newc -R 0:0 --reproducible --quiet)
}
pad4() {  # zero-pads a file to a multiple of 4 bytes (EFI stub concatenation, pitfall 6)
  local size pad
  size="$(stat -c %s "$1")"; pad=$(( (4 - size % 4) % 4 ))
  [ "$pad" -eq 0 ] || head -c "$pad" /dev/zero >> "$1"
}
if [ "$(id -u)" = 0 ]; then
  mknod "$S1/dev/console" c 5 1
else
  echo "make-demo-image: not root: /dev/console is left out of the stage-1 cpio" >&2
fi
make_cpio "$S1" | gzip -9 -n > "$WORK/stage1.cpio.gz"
pad4 "$WORK/stage1.cpio.gz"

mkdir -p "$WORK/storecpio"
cp "$WORK/nix-store.squashfs" "$WORK/storecpio/nix-store.squashfs"
case "$STORE_COMP" in
  zstd) make_cpio "$WORK/storecpio" | zstd -q -T0 "-${PIVOT_ZSTD_LEVEL:-19}" > "$WORK/store.cpio.zst"; STORE_CPIO="$WORK/store.cpio.zst" ;;
  xz) make_cpio "$WORK/storecpio" | xz -T0 --check=crc32 --x86 --lzma2 > "$WORK/store.cpio.xz"; STORE_CPIO="$WORK/store.cpio.xz" ;;
esac
pad4 "$STORE_CPIO"

# ---- outputs, replaced as a whole so a reader never sees a half-written image ------------------------------
mkdir -p "$OUTDIR"
NEW="$(mktemp -d "$OUTDIR/.new.XXXXXX")"
cp "$KROOT/boot/vmlinuz-$KVER" "$NEW/$KERNEL_NAME"
cat "$WORK/stage1.cpio.gz" "$STORE_CPIO" > "$NEW/initrd"
cat > "$NEW/netboot.ipxe" <<EOF
#!ipxe
# Use the cmdline variable to allow the user to specify custom kernel params
# when chainloading this script from other iPXE scripts like netboot.xyz
kernel $KERNEL_NAME init=/nix/store/$SYSTEM/init initrd=initrd console=$CONSOLE loglevel=4 \${cmdline}
initrd initrd
boot
EOF
for f in "$KERNEL_NAME" initrd netboot.ipxe; do mv -f "$NEW/$f" "$OUTDIR/$f"; done
rmdir "$NEW"
if [ -n "$PARTS_DIR" ]; then
  mkdir -p "$PARTS_DIR"
  cp "$WORK/stage1.cpio.gz" "$WORK/nix-store.squashfs" "$STORE_CPIO" "$PARTS_DIR/"
fi
echo "make-demo-image: $OUTDIR ($ARCH kernel $KVER, init /nix/store/$SYSTEM/init, squashfs $SQUASHFS_COMP" \
  "$(stat -c %s "$WORK/nix-store.squashfs") bytes, initrd $(stat -c %s "$OUTDIR/initrd") bytes)" >&2
