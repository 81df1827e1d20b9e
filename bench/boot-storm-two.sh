# The two-server storm of bench/boot-storm.sh (BENCH_SERVERS=2), sourced by it once the netboot build is made:
# two `pivot serve` as shipped (loopback, --dhcp off, each its own port and state) on one PostgreSQL, serving the
# same build with the same boot key; one is killed with kill -9 by PID once half the machines fetched their script.
# shellcheck shell=bash
[ -n "${BENCH_MACHINES:-}" ] || MACHINES=300
RAMP=${BENCH_RAMP:-20}
KILLED=${BENCH_KILL:-a} # which server dies: a or b

bench_start_postgres 127.0.0.1
DB="jdbc:postgresql://127.0.0.1:$PG_PORT/postgres?user=pivot"

declare -A PORT PID
for name in a b; do
  PORT[$name]=$(bench_free_port)
  mkdir -p "$BENCH_WORK/state-$name"
  # The same boot key on both (docs/ha.md): a machine presents its boot's token to the other server.
  [ "$name" = b ] && cp "$BENCH_WORK/state-a/boot-key" "$BENCH_WORK/state-b/boot-key"
  # Every simulated machine connects from 127.0.0.1: the per-address bounds would otherwise throttle the storm.
  BENCH_PIVOT_LOG="$BENCH_WORK/pivot-$name.log" bench_start_pivot_serve "$nb" "${PORT[$name]}" "$(bench_free_port)" \
    "$BENCH_WORK/state-$name" --database "$DB" --server-name "pxe-$name" \
    --limit http-connections-per-ip=4096 --limit http-downloads-per-ip=2048
  PID[$name]=$PIVOT_PID
done
# The scripts name the servers each one sees alive (heartbeats): wait until both see both.
for _ in $(seq 100); do
  both=1
  for name in a b; do
    [ "$(curl -s "http://127.0.0.1:${PORT[$name]}/healthz" | grep -o '"name"' | wc -l)" = 2 ] || both=0
  done
  [ $both = 1 ] && break
  sleep 0.1
done
[ $both = 1 ] || { echo "bench: the servers do not see each other: $(curl -s "http://127.0.0.1:${PORT[a]}/healthz")" >&2; exit 1; }
echo "bench: pxe-a = 127.0.0.1:${PORT[a]} (PID ${PID[a]}), pxe-b = 127.0.0.1:${PORT[b]} (PID ${PID[b]});" \
  "$("$PG_BIN/postgres" --version)"
cat "$BENCH_WORK"/state-a/artifacts/objects/* > /dev/null

URLS="http://127.0.0.1:${PORT[a]},http://127.0.0.1:${PORT[b]}"
# JIT and pools of both servers, no kill.
"$JAVA_HOME/bin/java" -cp "$BENCH_CP" dev.pivot.bench.BootStorm --url "$URLS" --machines 20 \
  --deadline-seconds "$DEADLINE" --label warmup > "$BENCH_WORK/warmup.out" &
BENCH_PIDS+=("$!")
wait "$!" || { cat "$BENCH_WORK/warmup.out"; exit 1; }

half=$((MACHINES / 2))
[ "$half" -ge 1 ] || half=1
signal="$BENCH_WORK/halfway"
echo "bench: $MACHINES machines starting over ${RAMP} s (machine i from pxe-a when i is even, pxe-b when odd);" \
  "pxe-$KILLED is killed (kill -9) once $half scripts were fetched; load average before: $(bench_loadavg)"
"$JAVA_HOME/bin/java" -cp "$BENCH_CP" dev.pivot.bench.BootStorm --url "$URLS" --machines "$MACHINES" \
  --deadline-seconds "$DEADLINE" --ramp-seconds "$RAMP" --signal-after-scripts "$half" --signal-file "$signal" \
  --label two-servers > "$BENCH_WORK/storm.out" &
storm_pid=$!
BENCH_PIDS+=("$storm_pid")
storm_start=$(date +%s.%N)
killed_at=""
while kill -0 "$storm_pid" 2>/dev/null; do
  if [ -z "$killed_at" ] && [ -e "$signal" ]; then
    kill -9 "${PID[$KILLED]}"
    killed_at=$(awk -v a="$storm_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    wait "${PID[$KILLED]}" 2>/dev/null || true
    echo "bench: killed pxe-$KILLED (PID ${PID[$KILLED]}, kill -9) at +$killed_at s"
  fi
  sleep 0.05
done
storm_rc=0
wait "$storm_pid" || storm_rc=$?
cat "$BENCH_WORK/storm.out"
survivor=b; [ "$KILLED" = b ] && survivor=a
echo "  pxe-a = 127.0.0.1:${PORT[a]}, pxe-b = 127.0.0.1:${PORT[b]}; pxe-$KILLED killed at +${killed_at:-never} s"
echo "  sessions recorded per server (PostgreSQL): $(psql_ "SELECT string_agg(server || '=' || n, ' ' ORDER BY server)
  FROM (SELECT server, count(*) AS n FROM boot_session GROUP BY server) s")"
echo "  pxe-$survivor /healthz after the storm: $(curl -s "http://127.0.0.1:${PORT[$survivor]}/healthz")"
echo "bench: load average after: $(bench_loadavg) ($(nproc) cores)"
result=$(grep '^RESULT ' "$BENCH_WORK/storm.out" || true)
completed=$(sed -n 's/.* completed=\([0-9]*\).*/\1/p' <<<"$result")
failed=$(sed -n 's/.* failed=\([0-9]*\).*/\1/p' <<<"$result")
if [ -z "$killed_at" ]; then
  echo "bench: the storm ended before $half scripts were fetched: no server was killed" >&2; exit 1
fi
if [ "$storm_rc" != 0 ] || [ "${completed:-0}" != "$MACHINES" ] || [ "${failed:-1}" != 0 ]; then
  echo "bench: ${completed:-0}/$MACHINES machines booted, ${failed:-?} failed (asserted $MACHINES/$MACHINES): FAILED" >&2
  exit 1
fi
echo "  $completed/$MACHINES booted with one of two servers killed halfway (asserted $MACHINES/$MACHINES)"
exit 0
