#!/usr/bin/env bash
# DHCP benchmark: the real `pivot serve --dhcp full` (as ./pivot runs it: leases in STATE/dhcp-leases, every boot
# event in the SQLite log STATE/pivot.db, the console timeline on stdout) against kea-dhcp4 (memfile, persisted)
# and optionally dnsmasq-base, with Kea's perfdhcp, in the same run. Each server runs in its own network namespace,
# perfdhcp in another, joined by one veth pair; nothing touches the host's network, and both namespaces are deleted
# on every exit path. perfdhcp acts as a relay (giaddr = its address), as it does by default with a unicast server
# address.
# Each repetition (BENCH_RUNS) runs every offered rate (BENCH_RATES, "max" = unbounded) against every server, the
# server order rotating from one repetition to the next so that a slow spell of a shared machine does not fall on
# one server only. Per run: a fresh server with empty state, a warm-up (BENCH_WARMUP seconds at 200/s, discarded),
# then BENCH_SECONDS of perfdhcp. Prints each run, then per (rate, server) the medians of DORA/s, drops, the
# DISCOVER→OFFER + REQUEST→ACK latency (avg, max) and server CPU, with the ratios Pivot/Kea.
#   sudo BENCH_RUNS=3 BENCH_RATES="2000 5000" BENCH_SECONDS=10 BENCH_SERVERS="pivot kea" bench/dhcp-vs-peers.sh
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

read -r -a RATES <<< "${BENCH_RATES:-2000 5000}"
RUNS=${BENCH_RUNS:-3}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-3}
EXIT_WAIT_US=${BENCH_EXIT_WAIT_US:-500000}
CLIENTS=${BENCH_CLIENTS:-50000}
read -r -a SERVERS <<< "${BENCH_SERVERS:-pivot kea}" # add dnsmasq for the third peer

[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
pivot_apt_install kea-admin kea-dhcp4-server dnsmasq-base iproute2 cpio squashfs-tools zstd gzip
bench_build

ID=$(printf '%06x' $((RANDOM * 32768 + RANDOM)))
NS_S="pvt-dbs-$ID"; NS_C="pvt-dbc-$ID"; IF_S="pds$ID"; IF_C="pdc$ID"
SERVER_IP=10.88.0.1; CLIENT_IP=10.88.0.2; FIRST=10.88.1.0; LAST=10.88.255.254
# Inside the server's namespace only: nothing else listens there.
PIVOT_HTTP_PORT=8080; PIVOT_TFTP_PORT=6969

# Processes first (by PID, lib.sh), then the namespaces, whichever way the script ends.
dhcp_cleanup() {
  ip netns del "$NS_S" 2>/dev/null || true
  ip netns del "$NS_C" 2>/dev/null || true
}
trap 'bench_cleanup; dhcp_cleanup' EXIT
ip netns add "$NS_S"; ip netns add "$NS_C"
ip link add "$IF_S" netns "$NS_S" type veth peer name "$IF_C" netns "$NS_C"
ip -n "$NS_S" addr add "$SERVER_IP/16" dev "$IF_S"; ip -n "$NS_C" addr add "$CLIENT_IP/16" dev "$IF_C"
for ns in "$NS_S" "$NS_C"; do ip -n "$ns" link set lo up; done
ip -n "$NS_S" link set "$IF_S" up; ip -n "$NS_C" link set "$IF_C" up

# pivot serve needs an image to serve: a tiny NixOS-shaped netboot build, made once.
NETBOOT="$BENCH_WORK/netboot"
bench_make_netboot "$NETBOOT" 64 16 64

SERVER_PID=
start_server() { # NAME RUNDIR
  local name=$1 dir=$2
  mkdir -p "$dir"
  case $name in
    pivot)
      # What ./pivot runs (lib.sh's PIVOT_JAVA), inside the server's namespace; `ip netns exec` execs, so $! is
      # the JVM. Its stdout (the console timeline) goes to the log file. perfdhcp is one relay for 50,000 new
      # clients: its offers a second are not bounded here (the default bound is per relay and sender).
      ip netns exec "$NS_S" "${PIVOT_JAVA[@]}" dev.pivot.cli.Main serve "$NETBOOT" --interface "$IF_S" \
        --dhcp full --range "$FIRST-$LAST" --state "$dir/state" --http-port "$PIVOT_HTTP_PORT" \
        --tftp-port "$PIVOT_TFTP_PORT" --limit dhcp-offers-per-source=1000000 --limit dhcp-offers-per-mac=1000000 \
        >"$dir/log" 2>&1 &
      SERVER_PID=$!; BENCH_PIDS+=("$SERVER_PID")
      bench_wait_for_line "$dir/log" '^pivot: waiting for machines' "$SERVER_PID" 120
      ip netns exec "$NS_S" ss -Hlun 'sport = :67' | grep -q . \
        || { echo "bench: pivot serve is not listening on UDP 67" >&2; exit 1; } ;;
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
    *) echo "bench: unknown server $name (pivot, kea, dnsmasq)" >&2; exit 2 ;;
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
  # In the background and waited for, so that a signal ends the script (and the trap cleans up) at once, not after
  # the measurement.
  ip netns exec "$NS_C" perfdhcp -4 "${args[@]}" -p "$secs" -W "$EXIT_WAIT_US" -R "$CLIENTS" -l "$IF_C" \
    "$SERVER_IP" >"$out" 2>&1 &
  PERF_PID=$!; BENCH_PIDS+=("$PERF_PID")
  wait "$PERF_PID" || true
}

# "DORA/s sent drops% avg-ms max-ms cpu-s cpu-ms-per-1000-DORA" from a perfdhcp report (DO + RA exchanges summed)
summarize() {
  awk -v cpu="$2" '
    /^Rate:/ { rate = $2 }
    /Statistics for: DISCOVER-OFFER/ { s = "do" } /Statistics for: REQUEST-ACK/ { s = "ra" }
    /^sent packets:/ { sent[s] = $3 } /^drops:/ { drops[s] = $2 }
    /^avg delay:/ { avg[s] = $3 } /^max delay:/ { max[s] = $3 }
    END {
      d = sent["do"] > 0 ? 100 * (drops["do"] + drops["ra"]) / sent["do"] : 100
      done = sent["ra"] - drops["ra"]
      printf "%s %d %.2f %.3f %.1f %.2f %.1f\n", rate + 0, sent["do"], d, avg["do"] + avg["ra"], max["do"] + max["ra"],
        cpu, (done > 0 ? cpu * 1e6 / done : 0)
    }' "$1"
}

RESULTS="$BENCH_WORK/results"
: >"$RESULTS"
echo "bench: perfdhcp $(perfdhcp -v 2>&1 | head -1), kea-dhcp4 $(kea-dhcp4 -v 2>&1), $(dnsmasq -v | head -1 | cut -d' ' -f1-3), Java $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
echo "bench: $(nproc) cores, load average before: $(bench_loadavg); $RUNS runs of ${SECONDS_PER_RUN}s per rate and server; servers: ${SERVERS[*]}"
echo "run  offered  server    DORA/s  sent    drops%  lat-avg-ms  lat-max-ms  cpu-s  cpu-ms/kDORA  load"
for ((run = 1; run <= RUNS; run++)); do
  for rate in "${RATES[@]}"; do
    # Rotate the order: run 1 starts with the first server, run 2 with the second, ...
    n=${#SERVERS[@]}
    for ((i = 0; i < n; i++)); do
      server=${SERVERS[$(((i + run - 1 + n * 1000) % n))]}
      dir="$BENCH_WORK/$server-$rate-$run"
      start_server "$server" "$dir"
      perf 200 "$WARMUP" "$dir/warmup.txt"
      before=$(cpu_ticks "$SERVER_PID")
      load=$(cut -d' ' -f1 /proc/loadavg)
      perf "$rate" "$SECONDS_PER_RUN" "$dir/perfdhcp.txt"
      ticks=$(( $(cpu_ticks "$SERVER_PID") - before ))
      stop_server
      line=$(summarize "$dir/perfdhcp.txt" "$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN{print t/hz}')")
      echo "$run $rate $server $line $load" >>"$RESULTS"
      read -r dora sent drops avg mx cpu cpuk <<< "$line"
      printf '%-4s %-8s %-9s %7.0f %7s %7s %11s %11s %6s %13s  %s\n' "$run" "$rate" "$server" "$dora" "$sent" "$drops" \
        "$avg" "$mx" "$cpu" "$cpuk" "$load"
      if [ "$server" = pivot ]; then
        # The console timeline shows the events went through the whole pipeline (the log, the timeline printer).
        echo "     pivot: $(grep -c ' dhcp ' "$dir/log" || true) timeline lines, pivot.db $(du -k "$dir/state/pivot.db" 2>/dev/null | cut -f1) KiB"
      fi
    done
  done
done

echo
echo "medians of $RUNS runs per rate and server (×Kea = the server's median / Kea's median; $(nproc) cores, load average after: $(bench_loadavg)):"
echo "offered  server    runs  DORA/s  ×Kea   drops%  lat-avg-ms  ×Kea  lat-max-ms  cpu-s  cpu-ms/kDORA  ×Kea  load"
awk '
  function median(list,   v, n, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
  {
    k = $2; s = $3
    if (!((k, s) in runs)) { if (!(k in seen)) { seen[k] = 1; rates[nr++] = k }; list[k] = list[k] " " s }
    runs[k, s]++
    dora[k, s] = dora[k, s] " " $4; drops[k, s] = drops[k, s] " " $6; avg[k, s] = avg[k, s] " " $7
    mx[k, s] = mx[k, s] " " $8; cpu[k, s] = cpu[k, s] " " $9; cpuk[k, s] = cpuk[k, s] " " $10
    if (!((k, s) in lo) || $11 < lo[k, s]) lo[k, s] = $11
    if (!((k, s) in hi) || $11 > hi[k, s]) hi[k, s] = $11
  }
  END {
    for (i = 0; i < nr; i++) {
      k = rates[i]; m = split(list[k], ss, " ")
      for (j = 1; j <= m; j++) {
        s = ss[j]
        md[s, "dora"] = median(dora[k, s]); md[s, "drops"] = median(drops[k, s]); md[s, "avg"] = median(avg[k, s])
        md[s, "mx"] = median(mx[k, s]); md[s, "cpu"] = median(cpu[k, s]); md[s, "cpuk"] = median(cpuk[k, s])
      }
      for (j = 1; j <= m; j++) {
        s = ss[j]
        printf "%-8s %-9s %4d %7.0f %5s %7.2f %11.3f %5s %11.1f %6.2f %13.1f %5s  %s-%s\n", k, s, runs[k, s],
          md[s, "dora"], ratio(md[s, "dora"], md["kea", "dora"]), md[s, "drops"], md[s, "avg"],
          ratio(md[s, "avg"], md["kea", "avg"]), md[s, "mx"], md[s, "cpu"], md[s, "cpuk"],
          ratio(md[s, "cpuk"], md["kea", "cpuk"]), lo[k, s], hi[k, s]
      }
      if (("kea", "dora") in md && ("pivot", "dora") in md)
        printf "%-8s Pivot/Kea: DORA/s %s, latency %s, CPU per exchange %s; drops %.2f %% vs %.2f %%\n", k,
          ratio(md["pivot", "dora"], md["kea", "dora"]), ratio(md["pivot", "avg"], md["kea", "avg"]),
          ratio(md["pivot", "cpuk"], md["kea", "cpuk"]), md["pivot", "drops"], md["kea", "drops"]
      delete md
    }
  }' "$RESULTS"
