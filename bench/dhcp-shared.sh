#!/usr/bin/env bash
# Two DHCP servers sharing their leases in one PostgreSQL: two `pivot serve --dhcp full --dhcp-leases store` (as
# ./pivot runs them) against two kea-dhcp4 with Kea's PostgreSQL lease backend, in the same run, with Kea's perfdhcp
# broadcasting on one LAN (both servers hear every request; the client takes the first answer). Each server in its
# own network namespace, perfdhcp and PostgreSQL (Debian's, its defaults: fsync on) in a third one holding the bridge;
# nothing touches the host's network, and the namespaces are deleted on every exit path. Each repetition runs both
# systems, the order alternating, each with a fresh database; prints each run, then medians and the ratio Pivot/Kea.
#   sudo BENCH_RUNS=3 BENCH_RATE=2000 BENCH_SECONDS=10 bench/dhcp-shared.sh
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-3}
RATE=${BENCH_RATE:-2000}
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
SYSTEMS=(pivot kea)

[ "$(id -u)" = 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
pivot_apt_install kea-admin kea-dhcp4-server postgresql iproute2 cpio squashfs-tools zstd gzip
bench_build

ID=$(printf '%06x' $((RANDOM * 32768 + RANDOM)))
NS_L="pvt-dsl-$ID"; NS=("pvt-ds1-$ID" "pvt-ds2-$ID"); BR="pdb$ID"; IF=("pd1$ID" "pd2$ID")
LAN_IP=10.89.0.254; SERVER_IP=(10.89.0.1 10.89.0.2); FIRST=10.89.1.0; LAST=10.89.255.250
dhcp_cleanup() {
  ip netns del "$NS_L" 2>/dev/null || true
  for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap 'bench_cleanup; dhcp_cleanup' EXIT
ip netns add "$NS_L"; ip -n "$NS_L" link set lo up
ip -n "$NS_L" link add "$BR" type bridge forward_delay 0; ip -n "$NS_L" link set "$BR" up
ip -n "$NS_L" addr add "$LAN_IP/16" dev "$BR"
for i in 0 1; do
  ip netns add "${NS[$i]}"; ip -n "${NS[$i]}" link set lo up
  ip -n "${NS[$i]}" link add "${IF[$i]}" type veth peer name "pp$i$ID" netns "$NS_L"
  ip -n "${NS[$i]}" addr add "${SERVER_IP[$i]}/16" dev "${IF[$i]}"; ip -n "${NS[$i]}" link set "${IF[$i]}" up
  ip -n "$NS_L" link set "pp$i$ID" master "$BR"; ip -n "$NS_L" link set "pp$i$ID" up
done

# PostgreSQL in the LAN namespace, listening on the bridge; trusted from the LAN (it exists only in this script).
bench_start_postgres "$LAN_IP" 5432 ip netns exec "$NS_L"
psql_ "SELECT 1" >/dev/null

NETBOOT="$BENCH_WORK/netboot"
bench_make_netboot "$NETBOOT" 64 16 64

PIDS=()
start_system() { # NAME RUNDIR
  local name=$1 dir=$2 i
  mkdir -p "$dir"
  psql_ "DROP DATABASE IF EXISTS bench WITH (FORCE)"; psql_ "CREATE DATABASE bench"
  PIDS=()
  case $name in
    pivot)
      for i in 0 1; do
        ip netns exec "${NS[$i]}" "${PIVOT_JAVA[@]}" dev.pivot.cli.Main serve "$NETBOOT" --interface "${IF[$i]}" \
          --dhcp full --range "$FIRST-$LAST" --state "$dir/state$i" --no-ipv6-ra --server-name "s$i" \
          --limit dhcp-offers-per-source=1000000 --limit dhcp-offers-per-mac=1000000 \
          --database "jdbc:postgresql://$LAN_IP:$PG_PORT/bench?user=pivot" --dhcp-leases store >"$dir/log$i" 2>&1 &
        PIDS+=($!); BENCH_PIDS+=($!)
        bench_wait_for_line "$dir/log$i" '^pivot: waiting for machines' "$!" 120
      done ;;
    kea)
      ip netns exec "$NS_L" kea-admin db-init pgsql -h "$LAN_IP" -P "$PG_PORT" -u pivot -p "" -n bench \
        >"$dir/kea-admin.log" 2>&1 || { cat "$dir/kea-admin.log" >&2; exit 1; }
      for i in 0 1; do
        cat >"$dir/kea$i.json" <<JSON
{ "Dhcp4": {
  "interfaces-config": { "interfaces": [ "${IF[$i]}" ] },
  "lease-database": { "type": "postgresql", "host": "$LAN_IP", "port": $PG_PORT, "name": "bench", "user": "pivot", "password": "" },
  "valid-lifetime": 3600,
  "subnet4": [ { "id": 1, "subnet": "10.89.0.0/16", "pools": [ { "pool": "$FIRST - $LAST" } ] } ],
  "loggers": [ { "name": "kea-dhcp4", "output_options": [ { "output": "$dir/kea$i.log" } ], "severity": "INFO" } ]
} }
JSON
        KEA_LOCKFILE_DIR="$dir" KEA_PIDFILE_DIR="$dir" \
          ip netns exec "${NS[$i]}" kea-dhcp4 -c "$dir/kea$i.json" >"$dir/log$i" 2>&1 &
        PIDS+=($!); BENCH_PIDS+=($!)
        bench_wait_for_line "$dir/kea$i.log" 'DHCP4_STARTED|DHCP4_CONFIG_COMPLETE' "$!" 30
      done ;;
  esac
}
stop_system() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

echo "bench: perfdhcp $(perfdhcp -v 2>&1 | head -1), kea-dhcp4 $(kea-dhcp4 -v 2>&1), $("$PG_BIN/postgres" --version)"
echo "bench: $(nproc) cores, load average before: $(bench_loadavg); $RUNS runs of ${SECONDS_PER_RUN}s at $RATE/s"
echo "run  system  DORA/s  drops-DO  drops-RA  non-unique-ACK  load"
RESULTS="$BENCH_WORK/results"; : >"$RESULTS"
for run in $(seq "$RUNS"); do
  for k in 0 1; do
    system=${SYSTEMS[$(((k + run - 1) % 2))]}
    dir="$BENCH_WORK/$system-$run"
    start_system "$system" "$dir"
    ip netns exec "$NS_L" perfdhcp -4 -r "$RATE" -p "$SECONDS_PER_RUN" -W 1000000 -R 1000000 -u -l "$BR" \
      >"$dir/perfdhcp.txt" 2>&1 || true
    stop_system
    [ "$system" = pivot ] && echo "bench: PostgreSQL deadlocks so far: $(psql_ "SELECT sum(deadlocks) FROM pg_stat_database")"
    line=$(awk '/^Rate:/ { rate = $2 } /Statistics for: DISCOVER-OFFER/ { s = "do" } /Statistics for: REQUEST-ACK/ { s = "ra" }
      /^drops:/ { d[s] = $2 } /^non unique addresses:/ { u[s] = $4 }
      END { printf "%.0f %d %d %d", rate, d["do"], d["ra"], u["ra"] }' "$dir/perfdhcp.txt")
    load=$(bench_loadavg)
    echo "$run $system $line" >>"$RESULTS"
    printf '%-4s %-7s %s  %s\n' "$run" "$system" "$line" "$load"
  done
done
echo
echo "medians of $RUNS runs (load average after: $(bench_loadavg)):"
for s in "${SYSTEMS[@]}"; do
  awk -v s="$s" '$2 == s { print $3 }' "$RESULTS" | sort -n | awk -v s="$s" '{ v[NR] = $1 }
    END { printf "%s %.0f\n", s, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
done | tee "$BENCH_WORK/medians"
awk '{ m[$1] = $2 } END { printf "two Pivot / two Kea on one PostgreSQL: DORA/s x%.2f\n", m["pivot"] / m["kea"] }' "$BENCH_WORK/medians"
