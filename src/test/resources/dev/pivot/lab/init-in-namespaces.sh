#!/bin/sh
# Runs Pivot's stage-1 init as PID 1 of a new PID namespace, chrooted into ROOT (the unpacked initrds), in the
# calling network namespace, with its own mount namespace: /proc with a fake /proc/cmdline (and /proc/meminfo when
# given), a /dev with only null/zero/random/urandom and /dev/console bound to this pty.
# Usage (under a pty, e.g. `script -c`): unshare --pid --fork --kill-child --mount --propagation private \
#          init-in-namespaces.sh ROOT CMDLINE_FILE [MEMINFO_FILE]
set -eu
# The init ends with `poweroff -f`: that must only ever end this PID namespace, never the host.
[ "$$" = 1 ] || { echo "init-in-namespaces: not PID 1 of a new PID namespace (PID $$); refusing" >&2; exit 99; }
ROOT="$1" CMDLINE="$2" MEMINFO="${3:-}"
console="$(tty)" || { echo "init-in-namespaces: stdin is not a terminal" >&2; exit 98; }
mkdir -p "$ROOT/proc" "$ROOT/dev"
mount -t proc proc "$ROOT/proc"
mount --bind "$CMDLINE" "$ROOT/proc/cmdline"
[ -z "$MEMINFO" ] || mount --bind "$MEMINFO" "$ROOT/proc/meminfo"
mount -t tmpfs -o mode=0755,size=1m devtmpfs "$ROOT/dev"
for d in null zero random urandom; do
  : > "$ROOT/dev/$d"
  mount --bind "/dev/$d" "$ROOT/dev/$d"
done
: > "$ROOT/dev/console"
mount --bind "$console" "$ROOT/dev/console"
exec chroot "$ROOT" /pivot/init
