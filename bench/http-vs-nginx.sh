#!/usr/bin/env bash
# Serves the same file from Pivot and from nginx (sendfile) on loopback and downloads it with curl, 1 at a time
# and 32 at once, alternating the servers each round. Prints throughput, the Pivot/nginx ratio and Pivot's
# peak RSS. Goal: Pivot >= 0.9x nginx, RSS < 300 MB.
#   BENCH_FILE_MB=1024 BENCH_ROUNDS=3 BENCH_SINGLE=3 BENCH_PARALLEL=32 BENCH_KEEP=0 bench/http-vs-nginx.sh
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

FILE_MB=${BENCH_FILE_MB:-1024}
ROUNDS=${BENCH_ROUNDS:-3}
SINGLE=${BENCH_SINGLE:-3}          # sequential downloads in the 1-client run
PARALLEL=${BENCH_PARALLEL:-32}     # concurrent downloads (one each) in the parallel run
CURL_MAX_TIME=${BENCH_CURL_MAX_TIME:-300}

bench_install
bench_build
echo "bench: load average before: $(bench_loadavg) ($(nproc) cores)"

file="$BENCH_WORK/payload.bin"
head -c "$((FILE_MB * 1024 * 1024))" /dev/urandom > "$file"

pivot_port=$(bench_free_port)
bench_start_pivot "$BENCH_WORK/store" "$pivot_port" "$file"
read -r _ sha name < <(grep '^artifact ' "$BENCH_WORK/pivot.log")
rm -f "$file" # the store holds the bytes now; nginx serves a hard link to the same object
mkdir -p "$BENCH_WORK/www/artifacts/$sha"
ln "$BENCH_WORK/store/objects/$sha" "$BENCH_WORK/www/artifacts/$sha/$name"
nginx_port=$(bench_free_port)
bench_start_nginx "$BENCH_WORK/www" "$nginx_port"
path="/artifacts/$sha/$name"
cat "$BENCH_WORK/store/objects/$sha" > /dev/null # both serve from the page cache

# One measurement: PARALLEL curls (each COUNT downloads in a row) against URL served by PID;
# prints "MB/s failures server-CPU-ms-per-GB". The CPU cost per byte is what a busy shared machine cannot blur.
measure() {
  local url=$1 parallel=$2 count=$3 pid=$4 i pids=() start end cpu0 cpu1
  cpu0=$(bench_cpu_ms "$pid")
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
  cpu1=$(bench_cpu_ms "$pid")
  cat "$BENCH_WORK"/curl.* | awk -v s="$start" -v e="$end" -v want="$((FILE_MB * 1024 * 1024))" \
      -v cpu_ms="$((cpu1 - cpu0))" '
    { total += $2; if ($1 != 200 || $2 != want) bad++ }
    END { printf "%.0f %d %.0f\n", total / (e - s) / 1e6, bad, (total ? cpu_ms / (total / 1e9) : 0) }'
  rm -f "$BENCH_WORK"/curl.*
}

measure "http://127.0.0.1:$pivot_port$path" 1 1 "$PIVOT_PID" > /dev/null # warm-up: JIT and pools
measure "http://127.0.0.1:$nginx_port$path" 1 1 "$NGINX_PID" > /dev/null

declare -A best=() leanest=()
printf '%-6s %-6s %-8s %8s %7s %12s  %s\n' round server clients 'MB/s' failed 'CPU ms/GB' 'load avg'
for ((r = 1; r <= ROUNDS; r++)); do
  for clients in 1 "$PARALLEL"; do
    for server in pivot nginx; do
      port=$pivot_port pid=$PIVOT_PID
      [ $server = nginx ] && port=$nginx_port pid=$NGINX_PID
      if [ "$clients" = 1 ]; then out=$(measure "http://127.0.0.1:$port$path" 1 "$SINGLE" "$pid")
      else out=$(measure "http://127.0.0.1:$port$path" "$clients" 1 "$pid"); fi
      read -r mbps failed cpu <<< "$out"
      printf '%-6s %-6s %-8s %8s %7s %12s  %s\n' "$r" "$server" "$clients" "$mbps" "$failed" "$cpu" "$(bench_loadavg)"
      key="$server-$clients"
      if [ "$failed" = 0 ]; then
        [ "${best[$key]:-0}" -lt "$mbps" ] && best[$key]=$mbps
        [ "${leanest[$key]:-999999}" -gt "$cpu" ] && leanest[$key]=$cpu
      fi
    done
  done
done

rss=$(bench_peak_rss_mb "$PIVOT_PID")
echo
echo "best of $ROUNDS rounds (highest MB/s, lowest server CPU ms per GB served), ${FILE_MB} MiB file, loopback:"
for clients in 1 "$PARALLEL"; do
  awk -v c="$clients" -v p="${best[pivot-$clients]:-0}" -v n="${best[nginx-$clients]:-0}" \
      -v pc="${leanest[pivot-$clients]:-0}" -v nc="${leanest[nginx-$clients]:-0}" 'BEGIN {
    printf "  %2d client(s): pivot %5d MB/s  nginx %5d MB/s  ratio %.2f %s;  CPU ms/GB pivot %d nginx %d\n",
      c, p, n, (n ? p / n : 0), (n && p / n >= 0.9 ? "(goal >= 0.9 met)" : "(goal >= 0.9 NOT met)"), pc, nc }'
done
echo "  pivot peak RSS (VmHWM): $rss MB $([ "$rss" -lt 300 ] && echo '(goal < 300 MB met)' || echo '(goal < 300 MB NOT met)')"
echo "bench: load average after: $(bench_loadavg) ($(nproc) cores)"
