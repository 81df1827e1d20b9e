#!/usr/bin/env bash
# A boot storm against the real `pivot serve` (as ./pivot runs it: SQLite event log, console timeline) and against
# nginx (a master and one worker per core) serving the same files, on loopback: N simulated machines start at once
# and each fetches its script, kernel, initrds and root image and sends its stage-1 reports
# (dev.pivot.bench.BootStorm). The servers alternate, each round starting with the other one. Prints each storm,
# then per server the median of the rounds (throughput, p99 of the boot, of /boot.ipxe and of /report, CPU per GB)
# and the Pivot/nginx ratios against the goals; exits 1 if any machine failed to boot.
#   BENCH_MACHINES=500 BENCH_ROUNDS=3 BENCH_DEADLINE=300 BENCH_KERNEL_MB=8 BENCH_STAGE1_MB=4 BENCH_ROOT_MB=64 \
#   BENCH_NGINX_WORKERS=$(nproc) BENCH_KEEP=0 BENCH_PIVOT_ONLY=0 bench/boot-storm.sh
#
# BENCH_SERVERS=2: two `pivot serve` sharing one PostgreSQL (Debian's, started here on 127.0.0.1 and a private
# socket) serve the same build, and one of them is killed with kill -9 halfway through the storm (once half the
# machines fetched their script); no nginx. Machines start spread over BENCH_RAMP seconds and fall back as iPXE and
# stage 1 do with the scripts Pivot writes (BootStorm). Prints the storm, which server served what, and exits 1 if
# any machine failed to boot.
#   BENCH_SERVERS=2 BENCH_MACHINES=300 BENCH_RAMP=20 bench/boot-storm.sh
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

MACHINES=${BENCH_MACHINES:-500}
ROUNDS=${BENCH_ROUNDS:-3}
DEADLINE=${BENCH_DEADLINE:-300}
KERNEL_MB=${BENCH_KERNEL_MB:-8}
STAGE1_MB=${BENCH_STAGE1_MB:-4}
ROOT_MB=${BENCH_ROOT_MB:-64}
# nginx as deployed: a master and one worker per core (the Debian package's `worker_processes auto`).
NGINX_WORKERS=${BENCH_NGINX_WORKERS:-$(nproc)}
PIVOT_ONLY=${BENCH_PIVOT_ONLY:-0}

bench_install
bench_build
ulimit -n "$(ulimit -Hn)" # 2 sockets per machine in flight: client and server side
echo "bench: load average before: $(bench_loadavg) ($(nproc) cores)"

nb="$BENCH_WORK/netboot"
bench_make_netboot "$nb" $((KERNEL_MB * 1024)) $((STAGE1_MB * 1024)) $((ROOT_MB * 1024))

if [ "${BENCH_SERVERS:-1}" = 2 ]; then
  # shellcheck source=bench/boot-storm-two.sh
  source "$BENCH_HOME/boot-storm-two.sh"
  exit $?
fi
[ "${BENCH_SERVERS:-1}" = 1 ] || { echo "bench: BENCH_SERVERS is 1 or 2, not '$BENCH_SERVERS'" >&2; exit 2; }

pivot_port=$(bench_free_port)
tftp_port=$(bench_free_port)
nginx_port=$(bench_free_port)
# Every simulated machine connects from 127.0.0.1: the per-address bounds would otherwise throttle the storm.
bench_start_pivot_serve "$nb" "$pivot_port" "$tftp_port" "$BENCH_WORK/state" \
  --limit http-connections-per-ip=4096 --limit http-downloads-per-ip=2048
"${PIVOT_JAVA[@]}" dev.pivot.bench.NginxMirror "http://127.0.0.1:$pivot_port" "http://127.0.0.1:$nginx_port" \
  "$BENCH_WORK/state/artifacts/objects" "$BENCH_WORK/www" "$MACHINES"
bench_start_nginx "$BENCH_WORK/www" "$nginx_port" "$NGINX_WORKERS"
echo "bench: pivot serve PID $PIVOT_PID; nginx $(nginx -v 2>&1 | cut -d/ -f2), master PID $NGINX_PID, $NGINX_WORKERS workers"
cat "$BENCH_WORK"/state/artifacts/objects/* > /dev/null # both serve from the page cache

# One storm against PORT served by PID; prints the storm's report and leaves its RESULT line plus the server's
# CPU milliseconds (nginx: master and workers) in $BENCH_WORK/result.LABEL.
storm() {
  local label=$1 port=$2 pid=$3 machines=$4 cpu0 cpu1 drops0 drops1 split0 split1
  cpu0=$(bench_cpu_ms "$pid")
  split0=$(bench_cpu_split "$pid")
  drops0=$(bench_listen_overflows)
  # In the background and waited for, so that a signal ends the script (and the trap cleans up) at once.
  "$JAVA_HOME/bin/java" -cp "$BENCH_CP" dev.pivot.bench.BootStorm --url "http://127.0.0.1:$port" \
    --machines "$machines" --deadline-seconds "$DEADLINE" --label "$label" > "$BENCH_WORK/storm.out" &
  BENCH_PIDS+=("$!")
  wait "$!"
  cpu1=$(bench_cpu_ms "$pid")
  split1=$(bench_cpu_split "$pid")
  drops1=$(bench_listen_overflows)
  cat "$BENCH_WORK/storm.out"
  echo "  server CPU: $((cpu1 - cpu0)) ms ($((${split1%/*} - ${split0%/*})) user, $((${split1#*/} - ${split0#*/})) system);" \
    "listen queue overflows (host-wide): $((drops1 - drops0));" \
    "load average: $(bench_loadavg)"
  echo "$(grep '^RESULT ' "$BENCH_WORK/storm.out") server_cpu_ms=$((cpu1 - cpu0)) load1=$(cut -d' ' -f1 /proc/loadavg)" \
    > "$BENCH_WORK/result.$label"
}

storm warmup-pivot "$pivot_port" "$PIVOT_PID" 20 > /dev/null # JIT and pools; nginx needs none but gets the same
[ "$PIVOT_ONLY" = 1 ] || storm warmup-nginx "$nginx_port" "$NGINX_PID" 20 > /dev/null

# The servers take turns, and each round starts with the other one, so that a slow spell of a shared machine does
# not fall on one server's runs only.
for ((r = 1; r <= ROUNDS; r++)); do
  order=(pivot nginx)
  ((r % 2 == 0)) && order=(nginx pivot)
  [ "$PIVOT_ONLY" = 1 ] && order=(pivot) # for profiling Pivot alone: no nginx run, no ratio
  for server in "${order[@]}"; do
    echo
    if [ "$server" = pivot ]; then storm "pivot-$r" "$pivot_port" "$PIVOT_PID" "$MACHINES"
    else storm "nginx-$r" "$nginx_port" "$NGINX_PID" "$MACHINES"; fi
  done
done
if [ -n "${BENCH_AFTER_STORM:-}" ]; then eval "$BENCH_AFTER_STORM"; fi # e.g. a jcmd against $PIVOT_PID

rss=$(bench_peak_rss_mb "$PIVOT_PID")
echo
echo "summary ($MACHINES machines, kernel ${KERNEL_MB} MiB, stage 1 ~${STAGE1_MB} MiB + prelude, root ${ROOT_MB} MiB," \
  "$ROUNDS rounds, nginx $NGINX_WORKERS workers, $(nproc) cores):"
# Per round, then the median of the rounds per server and the ratios Pivot/nginx against the goals: throughput
# >= 0.9x nginx, p99 of /boot.ipxe and /report <= 1.5x nginx. CPU per GB served is the figure a busy machine blurs
# least. Every machine must boot: any failure fails the script.
{ cat "$BENCH_WORK"/result.pivot-* "$BENCH_WORK"/result.nginx-* 2>/dev/null || true; } | awk '
  function ratio(a, b) { return b > 0 ? a / b : 0 }
  function median(list,   v, n, i, j, t) {
    n = split(list, v, " ")
    if (n == 0) return "nan"
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  {
    split($2, lr, "-"); s = lr[1]; servers[s] = 1
    for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    gb = f["bytes"] / 1e9
    cpugb = gb > 0 ? f["server_cpu_ms"] / gb : 0
    printf "  %-8s %d/%d booted in %6.1f s, %6.0f MB/s, p99 boot %6.0f ms, /boot.ipxe %6.0f ms, /report %6.0f ms, CPU %6d ms (%4.0f ms/GB), load %s\n",
      $2, f["completed"], f["completed"] + f["failed"], f["seconds"], f["mbps"], f["boot_p99_ms"], f["script_p99_ms"],
      f["report_p99_ms"], f["server_cpu_ms"], cpugb, f["load1"]
    mbps[s] = mbps[s] " " f["mbps"]; boot[s] = boot[s] " " f["boot_p99_ms"]; script[s] = script[s] " " f["script_p99_ms"]
    report[s] = report[s] " " f["report_p99_ms"]; cpu[s] = cpu[s] " " cpugb; failed[s] += f["failed"]
    runs[s]++
  }
  END {
    print "  median of the rounds:"
    split("pivot nginx", names, " ")
    for (k = 1; k <= 2; k++) {
      s = names[k]; if (!(s in servers)) continue
      m[s, "mbps"] = median(mbps[s]); m[s, "boot"] = median(boot[s]); m[s, "script"] = median(script[s])
      m[s, "report"] = median(report[s]); m[s, "cpu"] = median(cpu[s])
      printf "  %-8s %d rounds: %6.0f MB/s, p99 boot %6.0f ms, /boot.ipxe %6.0f ms, /report %6.0f ms, CPU %4.0f ms/GB, failures %d\n",
        s, runs[s], m[s, "mbps"], m[s, "boot"], m[s, "script"], m[s, "report"], m[s, "cpu"], failed[s]
    }
    if (("pivot" in servers) && ("nginx" in servers)) {
      t = ratio(m["pivot", "mbps"], m["nginx", "mbps"])
      ps = ratio(m["pivot", "script"], m["nginx", "script"]); pr = ratio(m["pivot", "report"], m["nginx", "report"])
      printf "  ratio pivot/nginx: throughput %.2f (goal >= 0.9: %s), p99 /boot.ipxe %.2f (goal <= 1.5: %s),",
        t, (t >= 0.9 ? "met" : "NOT met"), ps, (ps <= 1.5 ? "met" : "NOT met")
      printf " p99 /report %.2f (goal <= 1.5: %s), p99 boot %.2f, CPU per GB %.2f\n",
        pr, (pr <= 1.5 ? "met" : "NOT met"), ratio(m["pivot", "boot"], m["nginx", "boot"]),
        ratio(m["pivot", "cpu"], m["nginx", "cpu"])
    }
    total = 0; for (s in servers) total += failed[s]
    if (total == 0) print "  failures: 0 (asserted 0)"
    else print "  failures: " total " (asserted 0): FAILED"
    exit (total == 0 ? 0 : 1)
  }' || storm_failed=1
echo "  pivot peak RSS (VmHWM): $rss MB"
echo "bench: load average after: $(bench_loadavg) ($(nproc) cores)"
[ "${storm_failed:-0}" = 0 ] || { echo "bench: machines failed to boot (see above)" >&2; exit 1; }
