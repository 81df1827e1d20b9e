#!/usr/bin/env bash
# NBD read throughput: Pivot vs nbdkit (file plugin) vs nbd-server, serving the same 1 GiB file, read by the same
# client (fio's nbd engine, i.e. libnbd) in the same run, inside a fresh network namespace (loopback only).
# Cells: sequential 1 MiB reads (the file split among the clients, each client going round its part) and 4 KiB
# random reads, RUNTIME seconds each, with 1 and 16 clients (one connection each). REPS runs per cell, the servers
# taking turns (each rep starts with the next one); medians, and the ratio Pivot / better peer. Every server's RSS and
# private memory (RssAnon: RSS without file pages) are sampled every 0.2 s while they run, the same reads of /proc for
# each (nbd-server's: its listening process; it serves each client from a child). Every
# server runs in a session of its own (nbd-server makes one when it daemonizes; the others are started with
# setsid): with the kernel's autogroup scheduling a session is one scheduling group, so none of them shares its CPU
# share with the client or gets one more than the others when the machine is busy.
#
#   sudo bench/nbd-vs-peers.sh [REPS]          (default 3)
#   SIZE_MIB=256 RUNTIME=5 sudo -E bench/nbd-vs-peers.sh 1     (a quick look)
#
# BENCH_PIVOT_HOME=DIR measures the pivot serve built in DIR (another checkout) instead of this one;
# BENCH_BASELINE_HOME=DIR measures the one built in DIR as well, as a fourth server taking its turns (a column of its
# own, not in the ratio): before/after figures under the same load. It serves the very file the others serve (a hard
# link in its state directory, which its import then finds there), as nbdkit and nbd-server do.
#
# Needs root (ip netns). Debian packages fio nbdkit nbd-server are installed if missing, with a policy-rc.d that
# refuses service starts: only the servers this script starts, on 127.0.0.1 in its namespace, ever run. Every
# process is ended by PID in the EXIT trap; the namespace is deleted there too.
set -euo pipefail
REPS=${1:-3}
SIZE_MIB=${SIZE_MIB:-1024}
RUNTIME=${RUNTIME:-10}
HERE=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces)" >&2; exit 2; }
# shellcheck source=scripts/common.sh
source "$HERE/scripts/common.sh"
pivot_apt_install fio nbdkit nbd-server nbd-client squashfs-tools cpio gzip iproute2
JAVA_HOME="$(pivot_java_home)"; export JAVA_HOME
pivot_build_if_needed # before entering the namespace: ./pivot must not build inside it
PIVOT_DIR=${BENCH_PIVOT_HOME:-$HERE}
BASELINE_DIR=${BENCH_BASELINE_HOME:-}
for dir in "$PIVOT_DIR" $BASELINE_DIR; do
    [ -x "$dir/pivot" ] || { echo "no ./pivot in $dir" >&2; exit 2; }
    # ./pivot builds a checkout whose sources changed: do it here, not inside the namespace
    # shellcheck source=scripts/common.sh
    (cd "$dir" && source scripts/common.sh && pivot_build_if_needed)
    echo "pivot serve from $dir ($(git -C "$dir" rev-parse --short HEAD 2>/dev/null || echo 'not a git checkout'))"
done

WORK=$(mktemp -d /tmp/pvt-nbdbench.XXXXXX)
NS=pvt-nbdbench-$$
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    # the daemonized nbd-server is no child of this shell: wait for it by polling its PID
    for pid in "${PIDS[@]}"; do for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The file: a squashfs (Pivot serves root images, and checks that one is a squashfs) of SIZE_MIB random bytes,
# stored uncompressed, made by mksquashfs from /dev/urandom directly. A generic image around it: a stand-in kernel
# and stage 1 (nothing boots here).
mkdir -p "$WORK/image" "$WORK/src/root" "$WORK/src/stage1"
head -c 4096 /dev/urandom > "$WORK/image/vmlinuz"
printf '#!/bin/sh\nexec /bin/sh\n' > "$WORK/src/stage1/init"; chmod 755 "$WORK/src/stage1/init"
(cd "$WORK/src/stage1" && find . | cpio -o -H newc --quiet | gzip -1) > "$WORK/image/initrd"
mksquashfs "$WORK/src/root" "$WORK/image/root.squashfs" -quiet -no-progress -noappend -noD -all-root \
    -p "data f 444 0 0 head -c $((SIZE_MIB << 20)) /dev/urandom" > /dev/null

ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }
# Servers start with "setsid ip netns exec" itself, not in_ns: "$!" of a backgrounded function is a subshell, and
# killing that by PID would leave the server running. setsid, ip netns exec and ./pivot exec their command (a
# background job of this script is no process group leader, so setsid does not fork): "$!" is the server's PID,
# checked by own_session below.
own_session() {  # pid name
    [ "$(ps -o sid= -p "$1" | tr -d ' ')" = "$1" ] || { echo "$2 (PID $1) is not in a session of its own" >&2; exit 1; }
}
setsid ip netns exec "$NS" "$PIVOT_DIR/pivot" serve "$WORK/image" --skip-check --listen 127.0.0.1 --dhcp off \
    --tftp-port 6970 --http-port 6980 --root-transport nbd --nbd-port 10809 --state "$WORK/state" \
    > "$WORK/pivot.log" 2>&1 &
PIVOT_PID=$!
PIDS+=($PIVOT_PID)
own_session "$PIVOT_PID" pivot
for _ in $(seq 1200); do grep -q '^pivot: waiting for machines' "$WORK/pivot.log" 2>/dev/null && break; sleep 0.1; done
grep -q '^pivot: waiting for machines' "$WORK/pivot.log" || { echo "Pivot did not start: $(cat "$WORK/pivot.log")" >&2; exit 1; }
SHA=$(sed -n 's/^pivot: root image .* sha256 \([0-9a-f]\{64\}\)$/\1/p' "$WORK/pivot.log")
FILE="$WORK/state/artifacts/objects/$SHA"   # the very file Pivot serves: the peers serve it too
[ -f "$FILE" ] || { echo "no artifact $FILE" >&2; exit 1; }
SERVERS=(pivot nbdkit nbd-server)
if [ -n "$BASELINE_DIR" ]; then
    # Its own state (it imports the same image: the same bytes, the same export name), its own ports; the object is
    # linked in beforehand, so its reads hit the same page cache pages as everyone else's.
    install -d -m 700 "$WORK/state-baseline" "$WORK/state-baseline/artifacts" "$WORK/state-baseline/artifacts/objects"
    ln "$FILE" "$WORK/state-baseline/artifacts/objects/$SHA"
    setsid ip netns exec "$NS" "$BASELINE_DIR/pivot" serve "$WORK/image" --skip-check --listen 127.0.0.1 --dhcp off \
        --tftp-port 6971 --http-port 6981 --root-transport nbd --nbd-port 10812 --state "$WORK/state-baseline" \
        > "$WORK/baseline.log" 2>&1 &
    PIDS+=($!)
    own_session "$!" baseline
    BASELINE_PID=$!
    SERVERS+=(baseline)
fi

setsid ip netns exec "$NS" nbdkit --foreground --readonly --ipaddr 127.0.0.1 --port 10810 file "$FILE" \
    > "$WORK/nbdkit.log" 2>&1 &
PIDS+=($!)
NBDKIT_PID=$!
own_session "$!" nbdkit
cat > "$WORK/nbd-server.conf" <<CONF
[generic]
    user = root
    group = root
    listenaddr = 127.0.0.1
    port = 10811
    allowlist = true
[bench]
    exportname = $FILE
    readonly = true
CONF
# nbd-server serves connections in forked children only as a daemon (-d, "don't fork", serves one client and
# exits): it daemonizes, and its PID file names the process to end.
ip netns exec "$NS" nbd-server -C "$WORK/nbd-server.conf" -p "$WORK/nbd-server.pid" > "$WORK/nbd-server.log" 2>&1
for _ in $(seq 100); do [ -s "$WORK/nbd-server.pid" ] && break; sleep 0.1; done
[ -s "$WORK/nbd-server.pid" ] || { echo "nbd-server did not start: $(cat "$WORK/nbd-server.log")" >&2; exit 1; }
PIDS+=("$(cat "$WORK/nbd-server.pid")")
declare -A SERVER_PID=([pivot]=$PIVOT_PID [nbdkit]=$NBDKIT_PID [nbd-server]="$(cat "$WORK/nbd-server.pid")")
[ -z "$BASELINE_DIR" ] || SERVER_PID[baseline]=$BASELINE_PID

declare -A URI=([pivot]="nbd://127.0.0.1:10809/$SHA" [nbdkit]="nbd://127.0.0.1:10810/" \
    [nbd-server]="nbd://127.0.0.1:10811/bench" [baseline]="nbd://127.0.0.1:10812/$SHA")
for s in "${SERVERS[@]}"; do
    for _ in $(seq 600); do in_ns nbdinfo --size "${URI[$s]}" >/dev/null 2>&1 && break; sleep 0.1; done
    in_ns nbdinfo --size "${URI[$s]}" >/dev/null 2>&1 || {
        echo "$s does not answer at ${URI[$s]}: $(in_ns nbdinfo --size "${URI[$s]}" 2>&1 | tail -n 1)" >&2
        tail -n 5 "$WORK/$s.log" >&2 2>/dev/null || true
        exit 1
    }
done
SIZE=$(stat -c %s "$FILE")

# One fio run; prints MiB/s (sequential) or IOPS (random), or "fail".
run() {  # server seq|rand clients
    local uri=${URI[$1]} clients=$3 part out
    part=$(( SIZE / clients / 1048576 * 1048576 ))
    case $2 in
        warm) out=$(in_ns fio --minimal --name=warm --ioengine=nbd --uri="$uri" --rw=read --bs=1M --iodepth=1 \
                --size="$SIZE" 2>/dev/null) ;;
        seq) out=$(in_ns fio --minimal --name=seq --ioengine=nbd --uri="$uri" --rw=read --bs=1M --iodepth=1 \
                --numjobs="$clients" --size="$part" --offset_increment="$part" --time_based --runtime="$RUNTIME" \
                --group_reporting 2>/dev/null) ;;
        rand) out=$(in_ns fio --minimal --name=rand --ioengine=nbd --uri="$uri" --rw=randread --bs=4k --iodepth=1 \
                --numjobs="$clients" --size="$SIZE" --time_based --runtime="$RUNTIME" --randrepeat=0 \
                --group_reporting 2>/dev/null) ;;
    esac || { echo fail; return; }
    # terse v3: field 7 read bandwidth KiB/s, field 8 read IOPS, field 5 error
    awk -F';' -v kind="$2" '$1 != 3 {next} $5 != 0 {print "fail"; exit} kind == "seq" {printf "%.0f\n", $7 / 1024; exit}
        {print $8; exit}' <<< "$out"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "fail")}'; }
rss() { echo $(( $(ps -o rss= -p "${1:-$PIVOT_PID}") / 1024 )); }  # rss [PID], MiB
# RSS counts a file's pages only while a process maps them (Pivot sends from the file without mapping it; an earlier
# version mapped it, and the image's pages it had sent showed in its RSS). What the server itself holds is its private
# memory, RssAnon.
anon() { echo $(( $(awk '/^RssAnon:/ {print $2}' "/proc/${1:-$PIVOT_PID}/status") / 1024 )); }  # anon [PID], MiB

# Warm-up, not measured: each server reads the whole file once (page cache; Pivot's JIT).
for s in "${SERVERS[@]}"; do run "$s" warm 1 >/dev/null; done
RSS_START=$(rss)
ANON_START=$(anon)
# Sampled while the clients read, not only between runs: a mapped page counts in RSS while it is mapped. Every
# server alike: whatever the reads of /proc cost a server, each pays it.
( while kill -0 "$PIVOT_PID" 2>/dev/null; do
      for s in "${!SERVER_PID[@]}"; do
          echo "$s $(rss "${SERVER_PID[$s]}") $(anon "${SERVER_PID[$s]}")" 2>/dev/null || true
      done
      sleep 0.2
  done ) > "$WORK/memory.samples" &
PIDS+=($!)
echo "NBD reads of a $((SIZE >> 20)) MiB file (fio --ioengine=nbd, one connection per client): sequential 1 MiB"
echo "reads in MiB/s, 4 KiB random reads in IOPS, ${RUNTIME}s each; median of $REPS, servers taking turns."
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
printf '%-6s %-8s %10s %10s %11s %12s' reads clients pivot nbdkit nbd-server 'pivot/best'
[ -n "$BASELINE_DIR" ] && printf ' %10s' baseline
echo
for kind in seq rand; do
    for clients in 1 16; do
        declare -A runs=()
        servers=("${SERVERS[@]}")
        n=${#servers[@]}
        load=$(cut -d' ' -f1 /proc/loadavg)
        for r in $(seq "$REPS"); do
            for i in $(seq 0 $(( n - 1 ))); do
                s=${servers[$(( (r + i) % n ))]}
                runs[$s]="${runs[$s]:-} $(run "$s" "$kind" "$clients")"
            done
        done
        declare -A med=()
        for s in "${servers[@]}"; do
            med[$s]=$(printf '%s\n' ${runs[$s]} | { grep -v fail || true; } | median)
        done
        ratio=$(awk -v p="${med[pivot]}" -v a="${med[nbdkit]}" -v b="${med[nbd-server]}" \
            'BEGIN { best = (a == "fail") ? b : (b == "fail" || a > b) ? a : b;
                     if (p == "fail" || best == "fail" || best == 0) print "-"; else printf "%.2fx", p / best }')
        printf '%-6s %-8s %10s %10s %11s %12s' "$kind" "$clients" "${med[pivot]}" "${med[nbdkit]}" \
            "${med[nbd-server]}" "$ratio"
        [ -n "$BASELINE_DIR" ] && printf ' %10s' "${med[baseline]}"
        printf '   (runs: pivot%s · nbdkit%s · nbd-server%s' "${runs[pivot]}" "${runs[nbdkit]}" "${runs[nbd-server]}"
        [ -n "$BASELINE_DIR" ] && printf ' · baseline%s' "${runs[baseline]}"
        printf '; load %s → %s)\n' "$load" "$(cut -d' ' -f1 /proc/loadavg)"
        unset runs med
    done
done
RSS_MAX=$(awk -v m="$RSS_START" '$1 == "pivot" && $2 > m {m = $2} END {print m}' "$WORK/memory.samples")
ANON_MAX=$(awk -v m="$ANON_START" '$1 == "pivot" && $3 > m {m = $3} END {print m}' "$WORK/memory.samples")
echo "Pivot RSS: $RSS_START MiB after the warm-up, at most $RSS_MAX MiB during the runs ($(rss) MiB at the end;" \
    "$(grep -c '^pivot ' "$WORK/memory.samples") samples)"
echo "Pivot private memory (RssAnon, without file pages): $ANON_START MiB after the warm-up, at most \
$ANON_MAX MiB during the runs ($(anon) MiB at the end)"
echo "The others, sampled alike, at most during the runs: $(awk '$1 != "pivot" { if ($2 > r[$1]) r[$1] = $2;
    if ($3 > a[$1]) a[$1] = $3 } END { for (s in r) printf "%s RSS %d MiB (private %d MiB); ", s, r[s], a[s] }' \
    "$WORK/memory.samples")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
