#!/usr/bin/env bash
# Serves the same root image from the real `pivot serve` and from nginx (sendfile, one worker per core) on
# loopback and downloads it with curl, 1 client at a time and 32 at once, alternating which server goes first each
# round. Prints per-round figures, then medians: throughput, server CPU time per GB served, the Pivot/nginx ratio
# of each, and Pivot's peak RSS. Goal: Pivot >= 1.0x nginx's throughput, <= 1.5x nginx's CPU per GB, RSS < 300 MB.
#   BENCH_FILE_MB=1024 BENCH_ROUNDS=3 BENCH_SINGLE=3 BENCH_PARALLEL=32 BENCH_KEEP=0 bench/http-vs-nginx.sh
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

FILE_MB=${BENCH_FILE_MB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
SINGLE=${BENCH_SINGLE:-3}          # sequential downloads in the 1-client run
PARALLEL=${BENCH_PARALLEL:-32}     # concurrent downloads (one each) in the parallel run
CURL_MAX_TIME=${BENCH_CURL_MAX_TIME:-300}
export BENCH_NGINX_WORKERS=${BENCH_NGINX_WORKERS:-$(nproc)}

bench_install
bench_build
echo "bench: load average before: $(bench_loadavg) ($(nproc) cores)"

# A generic image (vmlinuz + initrd + root.squashfs) whose root image holds FILE_MB of random bytes: squashfs
# stores incompressible blocks as they are, so the artifact is that size plus a little metadata. The kernel and
# initrd are stand-ins, which the image check rightly rejects: --skip-check serves the image anyway.
img="$BENCH_WORK/image"
mkdir -p "$img" "$BENCH_WORK/stage1" "$BENCH_WORK/rootfs/sbin"
head -c $((8 * 1024 * 1024)) /dev/urandom > "$img/vmlinuz"
printf '#!/bin/sh\nexec /sbin/init\n' > "$BENCH_WORK/stage1/init"
chmod 0755 "$BENCH_WORK/stage1/init"
(cd "$BENCH_WORK/stage1" && find . | cpio -o -H newc --quiet | gzip -1) > "$img/initrd"
printf '#!/bin/sh\nexec sleep infinity\n' > "$BENCH_WORK/rootfs/sbin/init"
chmod 0755 "$BENCH_WORK/rootfs/sbin/init"
head -c "$((FILE_MB * 1024 * 1024))" /dev/urandom > "$BENCH_WORK/rootfs/payload.bin"
mksquashfs "$BENCH_WORK/rootfs" "$img/root.squashfs" -quiet -noappend -comp zstd > /dev/null
rm -rf "$BENCH_WORK/rootfs"

pivot_port=$(bench_free_port)
tftp_port=$(bench_free_port)
# All clients connect from 127.0.0.1: lift the per-address bounds.
bench_start_pivot_serve "$img" "$pivot_port" "$tftp_port" "$BENCH_WORK/state" --skip-check \
  --limit http-connections-per-ip=4096 --limit http-downloads-per-ip=2048
# nginx serves a hard link to the object in pivot's store: the same bytes from the same cached pages
# "pivot: root image root.squashfs, 1073877040 bytes, sha256 <hex>"
read -r name size sha < <(sed -nE 's/^pivot: root image ([^,]+), ([0-9]+) bytes, sha256 ([0-9a-f]{64}).*/\1 \2 \3/p' \
  "$BENCH_WORK/pivot.log")
[ -n "${sha:-}" ] || { echo "bench: no root image line in pivot's output:" >&2; cat "$BENCH_WORK/pivot.log" >&2; exit 1; }
object="$BENCH_WORK/state/artifacts/objects/$sha"
[ -f "$object" ] || { echo "bench: $object is not in pivot's store" >&2; exit 1; }
mkdir -p "$BENCH_WORK/www/artifacts/$sha"
ln "$object" "$BENCH_WORK/www/artifacts/$sha/$name"
nginx_port=$(bench_free_port)
bench_start_nginx "$BENCH_WORK/www" "$nginx_port"
path="/artifacts/$sha/$name"
cat "$object" > /dev/null # both serve from the page cache
echo "bench: $path, $size bytes; nginx worker_processes $BENCH_NGINX_WORKERS"

# One measurement: PARALLEL curls (each COUNT downloads in a row) against URL served by PID (and its children);
# prints "MB/s failures server-CPU-ms-per-GB". The CPU cost per byte is what a busy shared machine cannot blur.
measure() {
  local url=$1 parallel=$2 count=$3 pid=$4 i pids=() start end cpu0 cpu1
  cpu0=$(bench_cpu_ms_tree "$pid")
  start=$(date +%s.%N)
  for ((i = 0; i < parallel; i++)); do
    (
      for ((j = 0; j < count; j++)); do
        curl -s -o /dev/null --max-time "$CURL_MAX_TIME" -w '%{http_code} %{size_download}\n' "$url" || echo "curl-failed 0"
      done
    ) > "$BENCH_WORK/curl.$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  end=$(date +%s.%N)
  cpu1=$(bench_cpu_ms_tree "$pid")
  cat "$BENCH_WORK"/curl.* | awk -v s="$start" -v e="$end" -v want="$size" -v cpu_ms="$((cpu1 - cpu0))" '
    { total += $2; if ($1 != 200 || $2 != want) bad++ }
    END { printf "%.0f %d %.0f\n", total / (e - s) / 1e6, bad, (total ? cpu_ms / (total / 1e9) : 0) }'
  rm -f "$BENCH_WORK"/curl.*
}

measure "http://127.0.0.1:$pivot_port$path" 1 1 "$PIVOT_PID" > /dev/null # warm-up: JIT and pools
measure "http://127.0.0.1:$nginx_port$path" 1 1 "$NGINX_PID" > /dev/null

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-6s %-6s %-8s %8s %7s %12s  %s\n' round server clients 'MB/s' failed 'CPU ms/GB' 'load avg'
for ((r = 1; r <= ROUNDS; r++)); do
  order="pivot nginx"
  [ $((r % 2)) = 0 ] && order="nginx pivot"
  for clients in 1 "$PARALLEL"; do
    for server in $order; do
      port=$pivot_port pid=$PIVOT_PID
      [ $server = nginx ] && port=$nginx_port pid=$NGINX_PID
      if [ "$clients" = 1 ]; then out=$(measure "http://127.0.0.1:$port$path" 1 "$SINGLE" "$pid")
      else out=$(measure "http://127.0.0.1:$port$path" "$clients" 1 "$pid"); fi
      read -r mbps failed cpu <<< "$out"
      printf '%-6s %-6s %-8s %8s %7s %12s  %s\n' "$r" "$server" "$clients" "$mbps" "$failed" "$cpu" "$(bench_loadavg)"
      echo "$mbps $cpu" >> "$BENCH_WORK/runs.$server-$clients"
      [ "$failed" = 0 ] || echo "$r $server $clients" >> "$BENCH_WORK/failures"
    done
  done
done

rss=$(bench_peak_rss_mb "$PIVOT_PID")
echo
echo "medians of $ROUNDS rounds, $name of $size bytes ($FILE_MB MiB payload), loopback," \
  "nginx $BENCH_NGINX_WORKERS worker(s):"
for clients in 1 "$PARALLEL"; do
  pm=$(cut -d' ' -f1 "$BENCH_WORK/runs.pivot-$clients" | median)
  nm=$(cut -d' ' -f1 "$BENCH_WORK/runs.nginx-$clients" | median)
  pc=$(cut -d' ' -f2 "$BENCH_WORK/runs.pivot-$clients" | median)
  nc=$(cut -d' ' -f2 "$BENCH_WORK/runs.nginx-$clients" | median)
  awk -v c="$clients" -v pm="$pm" -v nm="$nm" -v pc="$pc" -v nc="$nc" 'BEGIN {
    t = nm ? pm / nm : 0; u = nc ? pc / nc : 0
    printf "  %2d client(s): MB/s pivot %5d nginx %5d ratio %.2f %s;  CPU ms/GB pivot %4d nginx %4d ratio %.2f %s\n",
      c, pm, nm, t, (t >= 1.0 ? "(goal >= 1.0 met)" : "(goal >= 1.0 NOT met)"),
      pc, nc, u, (u <= 1.5 ? "(goal <= 1.5 met)" : "(goal <= 1.5 NOT met)") }'
done
echo "  pivot peak RSS (VmHWM): $rss MB $([ "$rss" -lt 300 ] && echo '(goal < 300 MB met)' || echo '(goal < 300 MB NOT met)')"
[ -f "$BENCH_WORK/failures" ] && echo "  FAILED downloads in (round server clients): $(tr '\n' ';' < "$BENCH_WORK/failures")"
echo "bench: load average after: $(bench_loadavg) ($(nproc) cores)"
