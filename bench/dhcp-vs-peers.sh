#!/usr/bin/env bash
# DHCP benchmark: Pivot (FULL mode, leases in a FileLeaseStore, fsync before every ACK batch) against kea-dhcp4
# (memfile, persisted) and dnsmasq-base, with Kea's perfdhcp, in the same run. Each server runs in its own network
# namespace, perfdhcp in another, joined by one veth pair; nothing touches the host's network. perfdhcp acts as a
# relay (giaddr = its address), as it does by default with a unicast server address.
# For each offered rate (BENCH_RATES, "max" = unbounded) and each server: a fresh server with an empty lease file,
# a warm-up (BENCH_WARMUP seconds at 200/s, discarded), then BENCH_SECONDS of perfdhcp; prints DORA/s, drops and
# the DISCOVER→OFFER + REQUEST→ACK latency (avg, max), and each figure as a ratio against Kea.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

RATES=(${BENCH_RATES:-500 2000 5000 max})
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-3}
EXIT_WAIT_US=${BENCH_EXIT_WAIT_US:-500000}
CLIENTS=${BENCH_CLIENTS:-50000}
SERVERS=(${BENCH_SERVERS:-pivot kea dnsmasq})

[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
pivot_apt_install kea-admin kea-dhcp4-server dnsmasq-base iproute2
bench_build

ID=$(printf '%06x' $((RANDOM * 32768 + RANDOM)))
NS_S="pvt-dbs-$ID"; NS_C="pvt-dbc-$ID"; IF_S="pds$ID"; IF_C="pdc$ID"
SERVER_IP=10.88.0.1; CLIENT_IP=10.88.0.2; FIRST=10.88.1.0; LAST=10.88.255.254

dhcp_cleanup() {
  ip netns del "$NS_S" 2>/dev/null || true
  ip netns del "$NS_C" 2>/dev/null || true
}
trap 'dhcp_cleanup; bench_cleanup' EXIT
ip netns add "$NS_S"; ip netns add "$NS_C"
ip link add "$IF_S" netns "$NS_S" type veth peer name "$IF_C" netns "$NS_C"
ip -n "$NS_S" addr add "$SERVER_IP/16" dev "$IF_S"; ip -n "$NS_C" addr add "$CLIENT_IP/16" dev "$IF_C"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$IF_S" up; ip -n "$NS_C" link set "$IF_C" up

SERVER_PID=
start_server() { # NAME RUNDIR
  local name=$1 dir=$2
  mkdir -p "$dir"
  case $name in
    pivot)
      ip netns exec "$NS_S" "${PIVOT_JAVA[@]}" --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
        dev.pivot.bench.DhcpBenchServer "$SERVER_IP" "$FIRST" "$LAST" 16 "$dir/leases" "$IF_S" >"$dir/log" 2>&1 &
      SERVER_PID=$!; BENCH_PIDS+=("$SERVER_PID")
      bench_wait_for_line "$dir/log" '^READY' "$SERVER_PID" 60 ;;
    kea)
      cat >"$dir/kea.json" <<JSON
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "$IF_S" ] },
  "lease-database": { "type": "memfile", "persist": true, "name": "$dir/leases.csv", "lfc-interval": 0 },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "10.88.0.0/16", "pools": [ { "pool": "$FIRST - $LAST" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "$dir/kea.log" } ], "severity": "INFO" } ]
} }
JSON
      KEA_LOCKFILE_DIR="$dir" KEA_PIDFILE_DIR="$dir" ip netns exec "$NS_S" kea-dhcp4 -c "$dir/kea.json" >"$dir/log" 2>&1 &
      SERVER_PID=$!; BENCH_PIDS+=("$SERVER_PID")
      bench_wait_for_line "$dir/kea.log" 'DHCP4_STARTED|DHCP4_CONFIG_COMPLETE' "$SERVER_PID" 30 ;;
    dnsmasq)
      # --no-ping: Pivot and Kea do not ping before offering either (and the ping costs seconds per client).
      ip netns exec "$NS_S" dnsmasq -k -C /dev/null -u root --port=0 --interface="$IF_S" --bind-interfaces \
        --dhcp-range="$FIRST,$LAST,255.255.0.0,1h" --dhcp-leasefile="$dir/leases" --dhcp-lease-max=70000 \
        --dhcp-authoritative --no-ping --pid-file="$dir/pid" --log-facility="$dir/dnsmasq.log" >"$dir/log" 2>&1 &
      SERVER_PID=$!; BENCH_PIDS+=("$SERVER_PID")
      sleep 1; kill -0 "$SERVER_PID" || { cat "$dir/log" >&2; exit 1; } ;;
  esac
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# perfdhcp RATE SECONDS OUTFILE ("max": no -r)
perf() {
  local rate=$1 secs=$2 out=$3 args=()
  [ "$rate" != max ] && args+=(-r "$rate")
  # -W: after the test period, wait EXIT_WAIT_US for the answers still in flight instead of counting them as
  # drops (without it every server "drops" about rate × latency exchanges at the very end).
  ip netns exec "$NS_C" perfdhcp -4 "${args[@]}" -p "$secs" -W "$EXIT_WAIT_US" -R "$CLIENTS" -l "$IF_C" \
    "$SERVER_IP" >"$out" 2>&1 || true
}

# rate  sent  drops%  avg-ms  max-ms  cpu-s from a perfdhcp report (DO + RA exchanges summed)
summarize() {
  awk -v cpu="$2" '
    /^Rate:/ { rate = $2 }
    /Statistics for: DISCOVER-OFFER/ { s = "do" } /Statistics for: REQUEST-ACK/ { s = "ra" }
    /^sent packets:/ { sent[s] = $3 } /^drops:/ { drops[s] = $2 }
    /^avg delay:/ { avg[s] = $3 } /^max delay:/ { max[s] = $3 }
    END {
      d = sent["do"] > 0 ? 100 * (drops["do"] + drops["ra"]) / sent["do"] : 100
      printf "%s %d %.2f %.3f %.1f %.2f\n", rate + 0, sent["do"], d, avg["do"] + avg["ra"], max["do"] + max["ra"], cpu
    }' "$1"
}

RESULTS="$BENCH_WORK/results"
: >"$RESULTS"
echo "bench: perfdhcp $(perfdhcp -v 2>&1 | head -1), kea-dhcp4 $(kea-dhcp4 -v 2>&1), $(dnsmasq -v | head -1 | cut -d' ' -f1-3), Java $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
for rate in "${RATES[@]}"; do
  for server in "${SERVERS[@]}"; do
    dir="$BENCH_WORK/$server-$rate"
    start_server "$server" "$dir"
    perf 200 "$WARMUP" "$dir/warmup.txt"
    before=$(cpu_ticks "$SERVER_PID")
    load=$(cut -d' ' -f1 /proc/loadavg)
    perf "$rate" "$SECONDS_PER_RUN" "$dir/perfdhcp.txt"
    ticks=$(( $(cpu_ticks "$SERVER_PID") - before ))
    stop_server
    line=$(summarize "$dir/perfdhcp.txt" "$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN{print t/hz}')")
    echo "$rate $server $line $load" | tee -a "$RESULTS"
  done
done

echo
echo "offered  server    DORA/s  ×Kea   drops%  lat-avg-ms ×Kea  lat-max-ms  cpu-s  load"
awk '
  { k = $1; s = $2; rate[k, s] = $3; drops[k, s] = $5; avg[k, s] = $6; mx[k, s] = $7; cpu[k, s] = $8
    load[k, s] = $9; if (!(k in seen)) { seen[k] = 1; order[n++] = k }; list[k] = list[k] " " s }
  END {
    for (i = 0; i < n; i++) {
      k = order[i]; m = split(list[k], ss, " ")
      for (j = 1; j <= m; j++) {
        s = ss[j]; rr = "-"; ar = "-"
        if (rate[k, "kea"] > 0) rr = sprintf("%.2f", rate[k, s] / rate[k, "kea"])
        if (avg[k, "kea"] > 0) ar = sprintf("%.2f", avg[k, s] / avg[k, "kea"])
        printf "%-8s %-9s %7.0f %5s %7.2f %9.3f %5s %10.1f %6.2f %5s\n", k, s, rate[k, s], rr, drops[k, s], avg[k, s], ar, mx[k, s], cpu[k, s], load[k, s]
      }
    }
  }' "$RESULTS"
