#!/usr/bin/env bash
# The attacks of issue 16 against the real `pivot serve` on loopback (127.0.0.0/8 only: each attacker uses an
# address of its own, the legitimate client 127.0.0.1), bounded in count and time. Per attack: requests sent,
# legitimate fetches (script + kernel over HTTP + one TFTP file) served / failed during it, Pivot's peak RSS, threads
# and descriptors; then whether the log holds an OutOfMemoryError.
#
# BENCH_PIVOT_HOME=DIR runs the pivot serve built in DIR instead (another checkout, for before/after figures);
# BENCH_ATTACKS=a,b runs only those (tftp-flood, tftp-window, report-flood, conn-flood, download-hold, big-body,
# machines-read). Pivot runs with ./pivot's JVM flags (-Xmx256m).
source "$(dirname "$0")/lib.sh"

bench_build
if [ -n "${BENCH_PIVOT_HOME:-}" ]; then
  [ -f "$BENCH_PIVOT_HOME/target/classpath.txt" ] || (cd "$BENCH_PIVOT_HOME" && ./mvnw -q -B -o -DskipTests package >&2)
  # The attacks and the client stay ours (target/bench-classes); only the server is the other build.
  PIVOT_JAVA=("$JAVA_HOME/bin/java" $PIVOT_DEFAULT_JAVA_OPTS --enable-native-access=ALL-UNNAMED
    --add-exports java.base/sun.nio.ch=ALL-UNNAMED
    -cp "$BENCH_PIVOT_HOME/target/classes:$(cat "$BENCH_PIVOT_HOME/target/classpath.txt")")
  echo "bench: pivot serve from $BENCH_PIVOT_HOME ($(git -C "$BENCH_PIVOT_HOME" rev-parse --short HEAD 2>/dev/null || echo '?'))"
fi
ulimit -n 20000
echo "bench: load average before: $(bench_loadavg) ($(nproc) cores)"
nb="$BENCH_WORK/netboot"
bench_make_netboot "$nb" 2048 1024 4096
http_port=$(bench_free_port)
tftp_port=$(bench_free_port)
bench_start_pivot_serve "$nb" "$http_port" "$tftp_port" "$BENCH_WORK/state"
echo "bench: pivot serve PID $PIVOT_PID"
"$JAVA_HOME/bin/java" -Xmx512m -cp "$BENCH_CP" dev.pivot.bench.Abuse "$PIVOT_PID" "$http_port" \
  "$tftp_port" "$BENCH_WORK/pivot.log" undionly.kpxe "$(cat "$BENCH_WORK/state/api-token")" "${BENCH_ATTACKS:-}"
echo "bench: load average after: $(bench_loadavg)"
