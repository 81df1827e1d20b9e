#!/usr/bin/env bash
# How servers sharing a range claim addresses in PostgreSQL: the conditional insert Pivot ships (the server chooses
# from its copy, the primary key lets one claim through) against row locks that skip locked rows (the database
# chooses: SELECT … FOR UPDATE SKIP LOCKED), each with 1 and 32 claims per transaction, with BENCH_SERVERS servers
# (threads, one connection each) claiming at once. Debian's PostgreSQL, started here on 127.0.0.1 and a private
# socket with its defaults (fsync on, synchronous_commit on): a claim counts once committed, as before an ACK.
# Each repetition runs every (method, batch) with a fresh table, the order rotating; prints each run, then medians
# and the ratio insert/skiplocked.
#   sudo BENCH_RUNS=5 BENCH_SERVERS=2 BENCH_CLAIMS=5000 bench/lease-claims.sh
source "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-5}
SERVERS=${BENCH_SERVERS:-2}
CLAIMS=${BENCH_CLAIMS:-5000}
CASES=("insert 1" "skiplocked 1" "insert 32" "skiplocked 32")

bench_build
bench_start_postgres 127.0.0.1
URL="jdbc:postgresql://127.0.0.1:$PG_PORT/postgres?user=pivot"

echo "bench: $("$PG_BIN/postgres" --version), Java $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
echo "bench: $(nproc) cores, load average before: $(bench_loadavg); $RUNS runs; $SERVERS servers x $CLAIMS claims"
echo "run  method      batch  servers  claims  seconds  claims/s  refused  load"
RESULTS="$BENCH_WORK/results"
: >"$RESULTS"
n=${#CASES[@]}
for run in $(seq "$RUNS"); do
  for i in $(seq 0 $((n - 1))); do
    read -r method batch <<<"${CASES[$(((i + run - 1) % n))]}"
    line=$("${PIVOT_JAVA[@]}" dev.pivot.bench.LeaseClaims "$URL" "$SERVERS" "$CLAIMS" "$method" "$batch")
    load=$(bench_loadavg)
    echo "$run $line" >>"$RESULTS"
    printf '%-4s %-11s %5s  %7s  %6s  %7s  %8s  %7s  %s\n' "$run" $line "$load"
  done
done
echo
echo "medians of $RUNS runs (load average after: $(bench_loadavg)):"
echo "method      batch  claims/s"
for c in "${CASES[@]}"; do
  read -r method batch <<<"$c"
  awk -v m="$method" -v b="$batch" '$2 == m && $3 == b { print $7 }' "$RESULTS" | sort -n \
    | awk -v m="$method" -v b="$batch" '{ v[NR] = $1 } END { printf "%-11s %5s  %8.0f\n", m, b, (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
done | tee "$BENCH_WORK/medians"
awk '{ r[$1 " " $2] = $3 } END {
  printf "insert/skiplocked: x%.2f with 1 claim per transaction, x%.2f with 32\n", r["insert 1"] / r["skiplocked 1"], r["insert 32"] / r["skiplocked 32"] }' "$BENCH_WORK/medians"
