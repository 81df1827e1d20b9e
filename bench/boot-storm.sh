#!/usr/bin/env bash
# A boot storm against the real `pivot serve` and against nginx serving the same files, on loopback:
# N simulated machines start at once and each fetches its script, kernel, initrds and root image and sends its
# stage-1 reports (dev.pivot.bench.BootStorm). Prints completions, failures, throughput, p50/p99 per step,
# the Pivot/nginx ratio, each server's CPU time and Pivot's peak RSS.
#   BENCH_MACHINES=500 BENCH_ROUNDS=1 BENCH_DEADLINE=300 BENCH_KERNEL_MB=8 BENCH_STAGE1_MB=4 BENCH_ROOT_MB=64 \
#   BENCH_KEEP=0 BENCH_PIVOT_ONLY=0 bench/boot-storm.sh
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

MACHINES=${BENCH_MACHINES:-500}
ROUNDS=${BENCH_ROUNDS:-1}
DEADLINE=${BENCH_DEADLINE:-300}
KERNEL_MB=${BENCH_KERNEL_MB:-8}
STAGE1_MB=${BENCH_STAGE1_MB:-4}
ROOT_MB=${BENCH_ROOT_MB:-64}

bench_install
bench_build
ulimit -n "$(ulimit -Hn)" # 2 sockets per machine in flight: client and server side
echo "bench: load average before: $(bench_loadavg) ($(nproc) cores)"

# A NixOS-shaped netboot build made with the real tools: bzImage, initrd = gzip cpio (stage 1) followed by a
# zstd cpio holding only nix-store.squashfs, and the netboot.ipxe nixpkgs generates. Random bytes: nothing
# compresses, so sizes on the wire are the sizes given.
nb="$BENCH_WORK/netboot"
mkdir -p "$nb" "$BENCH_WORK/stage1/lib/modules" "$BENCH_WORK/rootfs/nix/store/bench-system"
head -c "$((KERNEL_MB * 1024 * 1024))" /dev/urandom > "$nb/bzImage"
head -c "$((STAGE1_MB * 1024 * 1024))" /dev/urandom > "$BENCH_WORK/stage1/lib/modules/bench.ko"
printf '#!/bin/sh\nexec /nix/store/bench-system/init\n' > "$BENCH_WORK/stage1/init"
chmod 0755 "$BENCH_WORK/stage1/init"
(cd "$BENCH_WORK/stage1" && find . | cpio -o -H newc --quiet | gzip -1) > "$nb/initrd"
head -c "$((ROOT_MB * 1024 * 1024))" /dev/urandom > "$BENCH_WORK/rootfs/nix/store/bench-system/payload"
mksquashfs "$BENCH_WORK/rootfs" "$BENCH_WORK/nix-store.squashfs" -quiet -noappend -comp zstd > /dev/null
(cd "$BENCH_WORK" && echo nix-store.squashfs | cpio -o -H newc --quiet | zstd -q -1) >> "$nb/initrd"
cat > "$nb/netboot.ipxe" <<'IPXE'
#!ipxe
# Use the cmdline variable to allow the user to specify custom kernel params
# when chainloading this script from other iPXE scripts like netboot.xyz
kernel bzImage init=/nix/store/bench-system/init initrd=initrd loglevel=4 ${cmdline}
initrd initrd
boot
IPXE

pivot_port=$(bench_free_port)
tftp_port=$(bench_free_port)
nginx_port=$(bench_free_port)
bench_start_pivot_serve "$nb" "$pivot_port" "$tftp_port" "$BENCH_WORK/state"
"${PIVOT_JAVA[@]}" dev.pivot.bench.NginxMirror "http://127.0.0.1:$pivot_port" "http://127.0.0.1:$nginx_port" \
  "$BENCH_WORK/state/artifacts/objects" "$BENCH_WORK/www" "$MACHINES"
bench_start_nginx "$BENCH_WORK/www" "$nginx_port"
cat "$BENCH_WORK"/state/artifacts/objects/* > /dev/null # both serve from the page cache

# One storm against PORT served by PID; prints the storm's report and leaves its RESULT line plus the server's
# CPU milliseconds in $BENCH_WORK/result.LABEL.
storm() {
  local label=$1 port=$2 pid=$3 machines=$4 cpu0 cpu1 drops0 drops1 split0 split1
  cpu0=$(bench_cpu_ms "$pid")
  split0=$(bench_cpu_split "$pid")
  drops0=$(bench_listen_overflows)
  "$JAVA_HOME/bin/java" -cp "$BENCH_CP" dev.pivot.bench.BootStorm --url "http://127.0.0.1:$port" \
    --machines "$machines" --deadline-seconds "$DEADLINE" --label "$label" > "$BENCH_WORK/storm.out"
  cpu1=$(bench_cpu_ms "$pid")
  split1=$(bench_cpu_split "$pid")
  drops1=$(bench_listen_overflows)
  cat "$BENCH_WORK/storm.out"
  echo "  server CPU: $((cpu1 - cpu0)) ms ($((${split1%/*} - ${split0%/*})) user, $((${split1#*/} - ${split0#*/})) system);" \
    "listen queue overflows (host-wide): $((drops1 - drops0));" \
    "load average: $(bench_loadavg)"
  echo "$(grep '^RESULT ' "$BENCH_WORK/storm.out") server_cpu_ms=$((cpu1 - cpu0))" > "$BENCH_WORK/result.$label"
}

storm warmup-pivot "$pivot_port" "$PIVOT_PID" 20 > /dev/null # JIT and pools; nginx needs none but gets the same
[ "${BENCH_PIVOT_ONLY:-0}" = 1 ] || storm warmup-nginx "$nginx_port" "$NGINX_PID" 20 > /dev/null

for ((r = 1; r <= ROUNDS; r++)); do
  echo
  storm "pivot-$r" "$pivot_port" "$PIVOT_PID" "$MACHINES"
  [ "${BENCH_PIVOT_ONLY:-0}" = 1 ] && continue # for profiling Pivot alone: no nginx run, no ratio
  echo
  storm "nginx-$r" "$nginx_port" "$NGINX_PID" "$MACHINES"
done
if [ -n "${BENCH_AFTER_STORM:-}" ]; then eval "$BENCH_AFTER_STORM"; fi # e.g. a jcmd against $PIVOT_PID

rss=$(bench_peak_rss_mb "$PIVOT_PID")
echo
echo "summary ($MACHINES machines, kernel ${KERNEL_MB} MiB, stage 1 ~${STAGE1_MB} MiB + prelude, root ${ROOT_MB} MiB):"
for ((r = 1; r <= ROUNDS; r++)); do
  [ "${BENCH_PIVOT_ONLY:-0}" = 1 ] && { sed 's/^RESULT/  RESULT/' "$BENCH_WORK/result.pivot-$r"; continue; }
  cat "$BENCH_WORK/result.pivot-$r" "$BENCH_WORK/result.nginx-$r" | awk -v r="$r" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } }
    END {
      printf "  round %d: pivot %d/%d booted in %.1f s (%.0f MB/s, boot p50 %.0f ms p99 %.0f ms, CPU %d ms)\n",
        r, v[1, "completed"], v[1, "completed"] + v[1, "failed"], v[1, "seconds"], v[1, "mbps"],
        v[1, "boot_p50_ms"], v[1, "boot_p99_ms"], v[1, "server_cpu_ms"]
      printf "           nginx %d/%d booted in %.1f s (%.0f MB/s, boot p50 %.0f ms p99 %.0f ms, CPU %d ms)\n",
        v[2, "completed"], v[2, "completed"] + v[2, "failed"], v[2, "seconds"], v[2, "mbps"],
        v[2, "boot_p50_ms"], v[2, "boot_p99_ms"], v[2, "server_cpu_ms"]
      printf "           ratio pivot/nginx: throughput %.2f, boot p99 %.2f, server CPU %.2f\n",
        v[1, "mbps"] / v[2, "mbps"], v[1, "boot_p99_ms"] / v[2, "boot_p99_ms"],
        v[1, "server_cpu_ms"] / v[2, "server_cpu_ms"]
    }'
done
echo "  pivot peak RSS (VmHWM): $rss MB"
echo "bench: load average after: $(bench_loadavg) ($(nproc) cores)"
